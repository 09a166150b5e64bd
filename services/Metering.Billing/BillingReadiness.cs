using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Metering.Billing;

/// <summary>Ready when the event store answers.</summary>
public sealed class BillingReadiness(IDocumentStore store) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var session = store.QuerySession();
            await session.Events.FetchStreamStateAsync("healthz", cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception ex)
        {
            return HealthCheckResult.Unhealthy("the event store is not reachable", ex);
        }
    }
}
