using Microsoft.Extensions.Http.Resilience;

namespace Metering.Client;

/// <summary>Where the services are and the bearer token every request carries; one token per client (a role, PRODUCT §5).</summary>
public sealed class MeteringClientOptions
{
    /// <summary>Ingest's base address (locally <c>http://127.0.0.1:5080</c>); needed for <see cref="IngestClient"/>.</summary>
    public Uri? Ingest { get; set; }
    /// <summary>Budgets' base address (locally <c>http://127.0.0.1:5081</c>); needed for <see cref="BudgetsClient"/>.</summary>
    public Uri? Budgets { get; set; }
    /// <summary>Billing's base address (locally <c>http://127.0.0.1:5082</c>); needed for <see cref="BillingClient"/>.</summary>
    public Uri? Billing { get; set; }
    /// <summary>The bearer token: an emitter's for usage and authorize, an admin's for quotas and Billing's admin endpoints.</summary>
    public string Token { get; set; } = "";
    /// <summary>Connections kept per service, for callers with many requests in flight; the runtime's default (unbounded) if unset.</summary>
    public int? MaxConnectionsPerServer { get; set; }
    /// <summary>Changes to the standard resilience options after the client's own rule (e.g. longer timeouts for slow reports).</summary>
    public Action<HttpStandardResilienceOptions>? Resilience { get; set; }
}
