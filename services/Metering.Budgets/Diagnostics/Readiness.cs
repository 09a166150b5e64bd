using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Metering.Budgets.Diagnostics;

/// <summary>Budgets is ready when its PostgreSQL answers and its silo is an active member of the cluster.</summary>
public static class Readiness
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);

    public static IHealthChecksBuilder AddBudgetsReadiness(this IServiceCollection services) =>
        services.AddHealthChecks()
            .AddCheck<PostgresReady>("postgres", tags: [MeteringDefaults.ReadyTag])
            .AddCheck<SiloReady>("silo", tags: [MeteringDefaults.ReadyTag]);

    private sealed class PostgresReady(NpgsqlDataSource dataSource) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(Timeout);
            try
            {
                await using var command = dataSource.CreateCommand("select 1");
                await command.ExecuteScalarAsync(timeout.Token);
                return HealthCheckResult.Healthy();
            }
            catch (Exception ex) when (ex is NpgsqlException or OperationCanceledException or TimeoutException)
            {
                return HealthCheckResult.Unhealthy("PostgreSQL is not reachable", ex);
            }
        }
    }

    private sealed class SiloReady(IClusterMembershipService membership, ILocalSiloDetails silo) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var status = membership.CurrentSnapshot.GetSiloStatus(silo.SiloAddress);
            return Task.FromResult(status == SiloStatus.Active
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy($"the silo is {status}, not an active member of the cluster"));
        }
    }
}
