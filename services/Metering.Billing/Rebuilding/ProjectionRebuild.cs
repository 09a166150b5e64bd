using System.Diagnostics;
using Marten;
using Metering.Billing.Invoicing;
using Metering.Billing.Pricing;

namespace Metering.Billing.Rebuilding;

/// <summary>
/// Rebuilds every Billing projection from the event store (<c>./metering rebuild</c>). Invoices are a pure function of
/// the events, so a rebuild gives them back unchanged, byte for byte.
/// </summary>
public static class ProjectionRebuild
{
    public static readonly Type[] Projections = [typeof(MonthlyUsageProjection), typeof(RateCardHistoryProjection)];

    public static async Task RunAsync(IDocumentStore store, ILogger logger, CancellationToken ct)
    {
        using var daemon = await store.BuildProjectionDaemonAsync(logger: logger);
        foreach (var projection in Projections)
        {
            var clock = Stopwatch.StartNew();
            await daemon.RebuildProjectionAsync(projection, TimeSpan.FromMinutes(30), ct);
            logger.LogInformation("Rebuilt {Projection} in {Seconds:F1} s", projection.Name, clock.Elapsed.TotalSeconds);
        }
    }
}
