namespace Metering.Contracts.Budgets;

/// <summary>Response of <c>GET /v1/tenants</c>: a page of the tenants Budgets knows, in tenant id order.</summary>
public sealed record TenantListView(IReadOnlyList<TenantSummary> Tenants, string? NextCursor = null);

/// <summary>
/// One tenant of the list: its last broadcast status, how many limits its quota has, and when any of them (quota,
/// status, stored usage) last changed.
/// </summary>
public sealed record TenantSummary(string Tenant, string Status, int Limits, DateTimeOffset UpdatedAt);

/// <summary>Response of <c>GET /v1/alerts</c>: a page of the alerts sent, newest first.</summary>
public sealed record AlertListView(IReadOnlyList<AlertView> Alerts, string? NextCursor = null);

/// <summary>
/// One alert sent: its <see cref="AlertKinds">kind</see>, the limit it is about (meter, period, limit), what was used
/// when it was sent and, for a <c>forecast</c> alert, the forecast month-end usage.
/// </summary>
public sealed record AlertView(string Tenant, string Kind, string Meter, string Period, decimal Limit, decimal Used, decimal? Forecast, DateTimeOffset At);

/// <summary>The kinds of budget alert: on <c>metering.budget-alerts.v1</c> (<c>BudgetAlert.Threshold</c>) and in <c>GET /v1/alerts</c>.</summary>
public static class AlertKinds
{
    /// <summary>Usage crossed a limit's soft threshold (<c>soft_pct</c>).</summary>
    public const string Soft = "soft";
    /// <summary>Usage reached the limit.</summary>
    public const string Limit = "limit";
    /// <summary>The month-end forecast exceeds the limit.</summary>
    public const string Forecast = "forecast";

    public static IReadOnlyList<string> All { get; } = [Soft, Limit, Forecast];
}

/// <summary>
/// Response of <c>GET /v1/tenants/counts</c>: how many tenants <c>GET /v1/tenants</c> lists (with the same <c>q</c>),
/// in all and per status: what paging through the list with each <c>status</c> would count.
/// </summary>
public sealed record TenantCountsView(int Tenants, int Ok, int Warning, int Throttled);
