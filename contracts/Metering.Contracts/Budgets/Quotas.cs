namespace Metering.Contracts.Budgets;

/// <summary>One limit of a tenant's quota: a meter (or <c>cost_usd</c>) per UTC day or month.</summary>
public sealed record QuotaLimit(string Meter, string Period, decimal Limit, int SoftPct, string Enforcement);

/// <summary>Body of <c>PUT /v1/tenants/{tenant}/quota</c>: replaces every limit of the tenant.</summary>
public sealed record QuotaRequest(IReadOnlyList<QuotaLimit> Limits);

/// <summary>The request header naming the person behind a quota change, for its history (1 to 128 printable characters).</summary>
public static class QuotaHeaders
{
    public const string Actor = "X-Metering-Actor";
}

/// <summary>One entry of <c>GET /v1/tenants/{tenant}/quota/history</c>: who changed the quota, when, from what to what.</summary>
public sealed record QuotaChange(string Tenant, DateTimeOffset ChangedAt, string ChangedBy, IReadOnlyList<QuotaLimit> Before, IReadOnlyList<QuotaLimit> After);

public static class Enforcements
{
    public const string Throttle = "throttle";
    public const string Alert = "alert";
}

/// <summary>The pseudo-meter of spend: usage priced with the rate card in effect, in USD.</summary>
public static class CostMeter
{
    public const string CostUsd = "cost_usd";
}

/// <summary>Response of <c>GET /v1/tenants/{tenant}/quota/history</c>: every change of the tenant's quota, oldest first.</summary>
public sealed record QuotaHistoryView(string Tenant, IReadOnlyList<QuotaChange> Changes);
