using Metering.Forecasting;

namespace Metering.Budgets.TenantBudgets;

/// <summary>What a forecast alert decision asks of the grain.</summary>
public enum ForecastAlertStep
{
    Nothing,
    /// <summary>The forecast went over the limit and no forecast alert of the limit's period is out: send one.</summary>
    Alert,
    /// <summary>The forecast fell back under <see cref="LimitForecasts.RearmBelow"/> of the limit: a later crossing alerts again.</summary>
    Rearm,
}

/// <summary>
/// The month-end forecast of a <c>month</c> limit: <see cref="MonthForecast"/> of its meter's day totals (the same
/// quantities as the actuals, or the USD charged for <c>cost_usd</c>), as the budget view shows it and as forecast
/// alerts decide on it. Pure: the moment is passed in.
/// </summary>
public static class LimitForecasts
{
    /// <summary>A forecast alert is re-armed once the forecast is back under this share of the limit.</summary>
    public const decimal RearmBelow = 0.9m;

    public static ForecastResult Of(string meter, DayHistory days, DateTimeOffset now)
    {
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var period = ForecastPeriod.Of(today);
        var input = new ForecastInput(period, now, days.Between(period.FirstDay, today.AddDays(1)),
            days.Between(ForecastInput.HistoryStart(period, now), today));
        return MonthForecast.Of(input, UnitOf(meter));
    }

    /// <summary>What the budget view shows of a forecast: null when there is none (usage on fewer than 3 days of the month).</summary>
    public static LimitForecastView? View(string meter, decimal limit, ForecastResult result)
    {
        if (result is not { Forecast: { } forecast, Low: { } low, High: { } high }) return null;
        return new LimitForecastView(Round(meter, forecast), Round(meter, low), Round(meter, high), result.ExhaustedOn(limit));
    }

    /// <summary>
    /// One forecast alert per limit and period: when the month-end forecast exceeds the limit and none is out; re-armed
    /// only when the forecast falls back under 90 % of the limit. Without a forecast nothing changes.
    /// </summary>
    public static ForecastAlertStep Decide(decimal? usedAtPeriodEnd, decimal limit, bool alerted) => usedAtPeriodEnd switch
    {
        { } forecast when !alerted && forecast > limit => ForecastAlertStep.Alert,
        { } forecast when alerted && forecast < limit * RearmBelow => ForecastAlertStep.Rearm,
        _ => ForecastAlertStep.Nothing,
    };

    /// <summary>
    /// Half-even, as the meter is counted: whole tokens; GPU-seconds and <c>cost_usd</c> with two decimals, always written
    /// (3000.00, not 3000.0).
    /// </summary>
    public static decimal Round(string meter, decimal amount) =>
        Meters.IsTokenMeter(meter) ? Math.Round(amount, 0, MidpointRounding.ToEven) : Math.Round(amount, 2, MidpointRounding.ToEven) + 0.00m;

    private static ForecastUnit UnitOf(string meter) => meter switch
    {
        CostMeter.CostUsd => ForecastUnit.Dollars,
        Meters.GpuSeconds => ForecastUnit.Named("GPU-seconds", 2),
        _ => ForecastUnit.Named("tokens"),
    };
}
