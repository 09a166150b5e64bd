namespace Metering.Contracts.Budgets;

/// <summary>Response of <c>GET /v1/tenants/{tenant}/budget</c>.</summary>
public sealed record BudgetView(string Tenant, string Status, IReadOnlyList<MeterUsageView> Usage, IReadOnlyList<LimitView> Limits);

/// <summary>What a tenant used of one meter in the current UTC <c>day</c> or <c>month</c>.</summary>
public sealed record MeterUsageView(string Meter, string Period, decimal Used);

/// <summary>One quota limit and where the tenant stands against it; a <c>month</c> limit with its month-end forecast.</summary>
public sealed record LimitView(
    string Meter, string Period, decimal Limit, decimal Used, decimal Remaining, int SoftPct, string Enforcement, DateTimeOffset ResetsAt,
    LimitForecastView? Forecast = null);

/// <summary>
/// Where a <c>month</c> limit's meter will stand at the end of the month (the shared month-end forecast) and its 80 %
/// interval, rounded as the meter is written (cents for <c>cost_usd</c>); <see cref="ExhaustedOn"/> is the UTC day the
/// limit is reached (actual or forecast), absent when the forecast stays under it. There is none before the month has
/// usage on 3 days.
/// </summary>
public sealed record LimitForecastView(decimal UsedAtPeriodEnd, decimal Low, decimal High, DateOnly? ExhaustedOn = null);

public static class BudgetStatuses
{
    public const string Ok = "ok";
    public const string Warning = "warning";
    public const string Throttled = "throttled";
}

public static class Periods
{
    public const string Day = "day";
    public const string Month = "month";
}
