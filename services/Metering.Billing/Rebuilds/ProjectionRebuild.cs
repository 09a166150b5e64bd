using System.Diagnostics;
using Metering.Billing.Chargeback.Ledger;
using Metering.Billing.Invoices;

namespace Metering.Billing.Rebuilds;

/// <summary>
/// Rebuilds every Billing projection from the event store (<c>./metering rebuild</c>). Invoices, the ledger and spend are
/// pure functions of the events in order, so a rebuild gives them back unchanged, byte for byte.
/// </summary>
public static class ProjectionRebuild
{
    public static readonly Type[] Inline = [typeof(MonthlyUsageProjection), typeof(RateCardHistoryProjection), typeof(TeamTreeProjection), typeof(TenantTeamHistoryProjection)];
    public static readonly string[] Asynchronous = [LedgerProjection.Name, Spend.SpendProjection.Name];

    public static async Task RunAsync(IDocumentStore store, ILogger logger, CancellationToken ct)
    {
        using var daemon = await store.BuildProjectionDaemonAsync(logger: logger);
        foreach (var projection in Inline)
            await TimedAsync(projection.Name, () => daemon.RebuildProjectionAsync(projection, TimeSpan.FromMinutes(30), ct));
        foreach (var projection in Asynchronous)
            await TimedAsync(projection, () => daemon.RebuildProjectionAsync(projection, TimeSpan.FromMinutes(30), ct));

        async Task TimedAsync(string name, Func<Task> rebuild)
        {
            var clock = Stopwatch.StartNew();
            await using (await RebuildProgress.StartAsync(store, name, logger, ct))
                await rebuild();
            logger.LogInformation("Rebuilt {Projection} in {Seconds:F1} s", name, clock.Elapsed.TotalSeconds);
        }
    }
}
