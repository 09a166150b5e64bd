using System.Text.Json.Serialization;

namespace Metering.Contracts.Billing;

/// <summary>
/// <c>GET /v1/forecast/{period}</c>: the month-end spend forecast made at <see cref="AsOf"/>. Money is a decimal string
/// with two decimals. <see cref="Forecast"/>, <see cref="Low"/> and <see cref="High"/> are JSON null when there is too
/// little usage to forecast, and <see cref="Explanation"/> says why.
/// </summary>
/// <param name="Actual">Spend so far: the period's days before the as-of moment.</param>
/// <param name="Low">With <see cref="High"/>, the interval meant to hold the month's total with probability <see cref="Interval"/>.</param>
/// <param name="Method">How the days left were forecast: <c>day_of_week_run_rate</c>, <c>pro_rata_run_rate</c>,
/// <c>insufficient_history</c> (no forecast) or <c>period_complete</c> (the month is over).</param>
public sealed record ForecastView(
    string Period,
    DateTimeOffset AsOf,
    string Actual,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Forecast,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Low,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? High,
    string Interval,
    string Method,
    string Explanation,
    IReadOnlyList<ForecastDayView> Days);

/// <summary>
/// One UTC day of the period, each amount cumulative from the period's first day through the end of that day:
/// <see cref="Actual"/> for past days and the as-of day (so far), the forecast and its interval for the as-of day and
/// the days after it. Absent amounts are left out.
/// </summary>
public sealed record ForecastDayView(string Date, string? Actual, string? Forecast, string? Low, string? High);
