namespace Metering.Forecasting;

/// <summary>
/// A month-end forecast. Amounts are exact decimals; callers round them (Billing: half-even to cents).
/// <see cref="Forecast"/>, <see cref="Low"/> and <see cref="High"/> are null when there is too little usage to forecast
/// (<see cref="ForecastMethods.InsufficientHistory"/>); otherwise Low ≤ Forecast ≤ High and Actual ≤ Low.
/// </summary>
public sealed record ForecastResult(
    ForecastPeriod Period,
    DateTimeOffset AsOf,
    decimal Actual,
    decimal? Forecast,
    decimal? Low,
    decimal? High,
    string Method,
    string Explanation,
    IReadOnlyList<ForecastDay> Days)
{
    /// <summary>The probability the interval [Low, High] is meant to hold the month's total with.</summary>
    public const decimal Interval = 0.8m;

    /// <summary>
    /// The first day whose cumulative amount (actual for past days, forecast from today on) reaches
    /// <paramref name="limit"/>; null when it is not reached within the period.
    /// </summary>
    public DateOnly? ExhaustedOn(decimal limit)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        foreach (var day in Days)
            if ((day.Forecast ?? day.Actual) is { } cumulative && cumulative >= limit)
                return day.Date;
        return null;
    }
}

/// <summary>
/// One day of the period, every amount cumulative from the period's first day through the end of that day (so the
/// last day's forecast is the month's). <see cref="Actual"/> is set for past days and today (so far);
/// <see cref="Forecast"/>, <see cref="Low"/> and <see cref="High"/> for today (with its remainder) and future days.
/// </summary>
public sealed record ForecastDay(DateOnly Date, decimal? Actual, decimal? Forecast, decimal? Low, decimal? High);

/// <summary>The stable identifiers of <see cref="ForecastResult.Method"/>.</summary>
public static class ForecastMethods
{
    /// <summary>The last week's mean daily amount, shaped by day-of-week factors of up to the last 8 weeks.</summary>
    public const string DayOfWeekRunRate = "day_of_week_run_rate";
    /// <summary>The mean of the period's complete days, for each day left (less than 3 weeks of history).</summary>
    public const string ProRataRunRate = "pro_rata_run_rate";
    /// <summary>Fewer than 3 days with usage in the period: no forecast.</summary>
    public const string InsufficientHistory = "insufficient_history";
    /// <summary>The as-of moment is past the period: the forecast is the actual total.</summary>
    public const string PeriodComplete = "period_complete";
}
