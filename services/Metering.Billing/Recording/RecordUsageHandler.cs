using System.Diagnostics.Metrics;
using Marten;
using Metering.Contracts.Usage;
using Metering.ServiceDefaults;

namespace Metering.Billing.Recording;

/// <summary>
/// Marks one (tenant, usage id) as recorded. Inserted in the same transaction as the usage it stands for, so a
/// redelivered or re-sent event finds it and is not recorded twice.
/// </summary>
public sealed record UsageReceipt(string Id, DateOnly Day)
{
    public static string IdOf(string tenant, string usageId) => $"{tenant}/{usageId}";
}

/// <summary>
/// Wolverine handler for batches of usage from the usage topic. A batch becomes one Marten transaction: receipts,
/// events on the tenant-month streams and the inline projections commit together or not at all.
/// </summary>
public static class RecordUsageHandler
{
    private static readonly Counter<long> Recorded = MeteringTelemetry.Meter.CreateCounter<long>("metering.billing.usage.recorded", description: "Usage events recorded for billing");
    private static readonly Counter<long> Duplicates = MeteringTelemetry.Meter.CreateCounter<long>("metering.billing.usage.duplicates", description: "Usage events already recorded");

    public static async Task Handle(UsageEvent[] batch, IDocumentSession session, CancellationToken ct)
    {
        var unique = batch.DistinctBy(e => UsageReceipt.IdOf(e.Tenant, e.Id)).ToList();
        var ids = unique.Select(e => UsageReceipt.IdOf(e.Tenant, e.Id)).ToArray();
        var known = (await session.LoadManyAsync<UsageReceipt>(ct, ids)).Select(r => r.Id).ToHashSet(StringComparer.Ordinal);

        var fresh = unique.Where(e => !known.Contains(UsageReceipt.IdOf(e.Tenant, e.Id))).ToList();
        foreach (var e in fresh)
            session.Insert(new UsageReceipt(UsageReceipt.IdOf(e.Tenant, e.Id), DateOnly.FromDateTime(e.Timestamp.UtcDateTime)));

        foreach (var stream in fresh.Select(UsageRecorded.From).GroupBy(r => BillingPeriod.UsageStream(r.Tenant, r.Month)))
            session.Events.Append(stream.Key, stream.Cast<object>().ToArray());

        await session.SaveChangesAsync(ct);
        Recorded.Add(fresh.Count);
        Duplicates.Add(batch.Length - fresh.Count);
    }
}
