using System.Globalization;
using Metering.Budgets.TenantBudgets;
using Metering.Contracts.Budgets;
using Metering.Forecasting;

namespace Metering.UnitTests;

/// <summary>
/// The budget view's forecast of a month limit and the forecast alert decision, with fixed histories and clocks: the
/// view's numbers are <see cref="MonthForecast"/>'s for the same days, rounded as the meter is counted.
/// </summary>
public class LimitForecastTests
{
    private static DateTimeOffset At(int year, int month, int day, int hour = 0) => new(year, month, day, hour, 0, 0, TimeSpan.Zero);

    private static QuotaLimit Month(string meter, decimal limit) => new(meter, Periods.Month, limit, 80, Enforcements.Alert);

    /// <summary>A weekly pattern with a slow rise and a fractional part, so no two days and no two weeks are alike.</summary>
    private static decimal Usage(DateOnly day) =>
        (day.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday ? 300m : 1000m) + day.DayNumber % 97 * 7.25m;

    /// <summary>A tenant whose usage of <paramref name="meter"/> was <paramref name="usage"/> on each day from <paramref name="from"/> through today.</summary>
    private static TenantBudget Budget(DateTimeOffset now, DateOnly from, Func<DateOnly, decimal> usage, string meter, params QuotaLimit[] limits)
    {
        var budget = new TenantBudget();
        budget.SetLimits(limits);
        for (var day = from; day <= DateOnly.FromDateTime(now.UtcDateTime); day = day.AddDays(1))
            foreach (var total in PeriodTotal.Of(new UsageIncrement($"u-{day}", meter, usage(day), day)))
                budget.Add(total);
        return budget;
    }

    /// <summary>What the forecasting library makes of the same days, given as a store returns them.</summary>
    private static ForecastResult Expected(DateTimeOffset now, DateOnly from, Func<DateOnly, decimal> usage, ForecastUnit unit)
    {
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var days = new Dictionary<DateOnly, decimal>();
        for (var day = from; day <= today; day = day.AddDays(1)) days[day] = usage(day);
        return MonthForecast.Of(ForecastInput.FromDays(ForecastPeriod.Of(today), now, days, days.Where(d => d.Key < today).ToDictionary()), unit);
    }

    public static TheoryData<DateTimeOffset, int, string> Cases => new()
    {
        // Enough weeks for weekday factors; the history reaches into the month before.
        { At(2026, 11, 18, 15), 120, Meters.InputTokens },
        { At(2026, 11, 18, 15), 120, Meters.GpuSeconds },
        { At(2026, 11, 18, 15), 120, CostMeter.CostUsd },
        // A new tenant: pro rata from its first day.
        { At(2026, 11, 9, 6), 5, Meters.OutputTokens },
        // The 3rd of January, history from December.
        { At(2027, 1, 3, 23), 60, CostMeter.CostUsd },
        // The last moments of a leap February.
        { At(2028, 2, 29, 23), 90, Meters.GpuSeconds },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_month_limit_shows_the_month_end_forecast_of_its_meter_rounded_as_the_meter_is_counted(DateTimeOffset now, int daysOfUsage, string meter)
    {
        var from = DateOnly.FromDateTime(now.UtcDateTime).AddDays(1 - daysOfUsage);
        var limit = Month(meter, 10_000m);
        var budget = Budget(now, from, Usage, meter, limit);
        var expected = Expected(now, from, Usage, meter == CostMeter.CostUsd ? ForecastUnit.Dollars : ForecastUnit.Named("units"));

        var forecast = budget.View("acme", now).Limits.Single().Forecast;

        Assert.NotNull(expected.Forecast);
        var decimals = Meters.IsTokenMeter(meter) ? 0 : 2;
        decimal Rounded(decimal? amount) => Math.Round(amount!.Value, decimals, MidpointRounding.ToEven);
        Assert.Equal(new LimitForecastView(Rounded(expected.Forecast), Rounded(expected.Low), Rounded(expected.High), expected.ExhaustedOn(limit.Limit)), forecast);
        Assert.True(forecast!.Low <= forecast.UsedAtPeriodEnd && forecast.UsedAtPeriodEnd <= forecast.High);
    }

    [Fact]
    public void Exhausted_on_is_the_day_the_cumulative_usage_reaches_the_limit_and_absent_when_the_month_stays_under_it()
    {
        // 100 a day since October, 50 by noon of 15 November: 1,450 so far, 3,000 at the end of the month.
        var now = At(2026, 11, 15, 12);
        var budget = Budget(now, new DateOnly(2026, 10, 1), day => day == new DateOnly(2026, 11, 15) ? 50m : 100m, Meters.InputTokens,
            Month(Meters.InputTokens, 2000m), new QuotaLimit(Meters.OutputTokens, Periods.Month, 1000m, 80, Enforcements.Throttle),
            new QuotaLimit(Meters.InputTokens, Periods.Day, 1000m, 80, Enforcements.Throttle));

        var limits = budget.View("acme", now).Limits;

        Assert.Equal(new LimitForecastView(3000m, 3000m, 3000m, new DateOnly(2026, 11, 20)), limits[0].Forecast);
        budget.SetLimits([Month(Meters.InputTokens, 3001m)]);
        Assert.Equal(new LimitForecastView(3000m, 3000m, 3000m), budget.View("acme", now).Limits.Single().Forecast);
        // A meter without usage has no usage on 3 days, and a day limit has no forecast at all.
        Assert.Null(limits[1].Forecast);
        Assert.Null(limits[2].Forecast);
    }

    [Fact]
    public void On_the_wire_the_forecast_is_on_month_limits_in_snake_case_with_exhausted_on_only_when_reached()
    {
        var now = At(2026, 11, 15, 12);
        var budget = Budget(now, new DateOnly(2026, 10, 1), day => day == new DateOnly(2026, 11, 15) ? 50m : 100m, CostMeter.CostUsd,
            Month(CostMeter.CostUsd, 2000m), Month(Meters.InputTokens, 1m), new QuotaLimit(CostMeter.CostUsd, Periods.Day, 1000m, 80, Enforcements.Alert));
        budget.SetLimits([.. budget.Limits, Month(Meters.GpuSeconds, 5000m)]);

        var json = System.Text.Json.JsonSerializer.SerializeToNode(budget.View("acme", now), Metering.Contracts.MeteringJson.Options)!["limits"]!.AsArray();

        Assert.Equal("""{"used_at_period_end":3000.00,"low":3000.00,"high":3000.00,"exhausted_on":"2026-11-20"}""", json[0]!["forecast"]!.ToJsonString());
        Assert.All(json.Skip(1), limit => Assert.False(limit!.AsObject().ContainsKey("forecast")));
    }

    [Fact]
    public void A_month_with_usage_on_fewer_than_3_days_has_no_forecast_however_long_the_history()
    {
        var budget = Budget(At(2026, 12, 3, 18), new DateOnly(2026, 10, 1), _ => 100m, Meters.InputTokens, Month(Meters.InputTokens, 100m));

        Assert.Null(budget.View("acme", At(2026, 12, 1, 18)).Limits.Single().Forecast);
        Assert.Null(budget.View("acme", At(2026, 12, 2, 23)).Limits.Single().Forecast);
        Assert.NotNull(budget.View("acme", At(2026, 12, 3)).Limits.Single().Forecast);
    }

    [Fact]
    public void Day_totals_are_kept_only_for_the_meters_of_month_limits()
    {
        var budget = Budget(At(2026, 11, 18), new DateOnly(2026, 11, 1), _ => 100m, Meters.InputTokens,
            new QuotaLimit(Meters.InputTokens, Periods.Day, 1000m, 80, Enforcements.Throttle));
        Assert.Empty(budget.ForecastMeters);

        budget.SetLimits([Month(Meters.InputTokens, 1m), Month(CostMeter.CostUsd, 1m), new QuotaLimit(Meters.GpuSeconds, Periods.Day, 1m, 80, Enforcements.Alert)]);
        Assert.Equal([Meters.InputTokens, CostMeter.CostUsd], budget.ForecastMeters);

        budget.SetLimits([]);
        Assert.Empty(budget.ForecastMeters);
    }

    [Fact]
    public void Days_pass_through_the_history_without_it_growing_and_what_it_no_longer_holds_is_zero()
    {
        var history = new DayHistory();
        var first = new DateOnly(2026, 9, 1);
        history.Add(first, 5m);
        history.Add(first, 2.5m);
        history.Add(first.AddDays(DayHistory.Days - 1), 1m);
        Assert.Equal(7.5m, history.On(first));

        history.Add(first.AddDays(DayHistory.Days), 3m);
        Assert.Equal(0m, history.On(first));
        Assert.Equal([1m, 3m, 0m], history.Between(first.AddDays(DayHistory.Days - 1), first.AddDays(DayHistory.Days + 2)));
        // Late usage of a day older than the ring holds is not history any more.
        history.Add(first, 4m);
        Assert.Equal(0m, history.On(first));

        history.Add(first.AddDays(500), 9m);
        Assert.Equal(0m, history.On(first.AddDays(DayHistory.Days)));
        Assert.Equal(9m, history.On(first.AddDays(500)));
    }

    [Fact]
    public void Usage_dated_tomorrow_before_midnight_leaves_the_eight_weeks_of_history_in_place()
    {
        var now = At(2026, 11, 18, 23) + TimeSpan.FromMinutes(58);
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var from = today.AddDays(-ForecastInput.HistoryDays);
        var budget = Budget(now, from, Usage, Meters.InputTokens, Month(Meters.InputTokens, 100m));
        var before = budget.View("acme", now).Limits.Single().Forecast;

        // An emitter's clock a few minutes ahead: the event counts for 19 November.
        foreach (var total in PeriodTotal.Of(new UsageIncrement("ahead", Meters.InputTokens, 50m, today.AddDays(1)))) budget.Add(total);

        Assert.Equal(before, budget.View("acme", now).Limits.Single().Forecast);
    }

    [Theory]
    // Under the limit, at it, over it: only over it alerts.
    [InlineData("999.99", false, ForecastAlertStep.Nothing)]
    [InlineData("1000", false, ForecastAlertStep.Nothing)]
    [InlineData("1000.01", false, ForecastAlertStep.Alert)]
    // Once alerted, nothing until the forecast is back under 90 %.
    [InlineData("5000", true, ForecastAlertStep.Nothing)]
    [InlineData("950", true, ForecastAlertStep.Nothing)]
    [InlineData("900", true, ForecastAlertStep.Nothing)]
    [InlineData("899.99", true, ForecastAlertStep.Rearm)]
    // Re-armed and under the limit: nothing to do.
    [InlineData("899.99", false, ForecastAlertStep.Nothing)]
    public void A_forecast_alert_goes_out_once_over_the_limit_and_is_rearmed_under_90_percent(string forecast, bool alerted, ForecastAlertStep step) =>
        Assert.Equal(step, LimitForecasts.Decide(decimal.Parse(forecast, CultureInfo.InvariantCulture), 1000m, alerted));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Without_a_forecast_the_alert_state_stays_as_it_is(bool alerted) =>
        Assert.Equal(ForecastAlertStep.Nothing, LimitForecasts.Decide(null, 1000m, alerted));
}
