namespace Metering.Contracts.Budgets;

/// <summary>Response of <c>GET /v1/tenants/{tenant}/budget</c>.</summary>
public sealed record BudgetView(string Tenant, string Status, IReadOnlyList<MeterUsageView> Usage, IReadOnlyList<LimitView> Limits);

/// <summary>What a tenant used of one meter in the current UTC <c>day</c> or <c>month</c>.</summary>
public sealed record MeterUsageView(string Meter, string Period, decimal Used);

/// <summary>One quota limit and where the tenant stands against it.</summary>
public sealed record LimitView(
    string Meter, string Period, decimal Limit, decimal Used, decimal Remaining, int SoftPct, string Enforcement, DateTimeOffset ResetsAt);

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
