using System.Diagnostics.Metrics;
using Marten;
using Npgsql;
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

    public static async Task Handle(UsageEvent[] batch, IDocumentStore store, BillingDatabase database, CancellationToken ct)
    {
        var unique = batch.DistinctBy(e => UsageReceipt.IdOf(e.Tenant, e.Id)).ToList();
        var streams = unique.Select(e => BillingPeriod.UsageStream(e.Tenant, BillingPeriod.Of(e.Timestamp))).Distinct().ToArray();

        await using var connection = await database.DataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        // Writers of the same tenant-month streams take turns: overlapping batches (inbox recovery after a crash, two
        // instances during a rebalance) would otherwise race on receipts and stream versions. Sorted, so no deadlock.
        await using (var lockStreams = new NpgsqlCommand(
            "select count(pg_advisory_xact_lock(hashtextextended(s, 0))) from (select unnest(@streams) as s order by 1) as sorted",
            connection, transaction))
        {
            lockStreams.Parameters.AddWithValue("streams", streams);
            await lockStreams.ExecuteScalarAsync(ct);
        }

        await using var session = store.LightweightSession(Marten.Services.SessionOptions.ForTransaction(transaction, shouldAutoCommit: false));
        var ids = unique.Select(e => UsageReceipt.IdOf(e.Tenant, e.Id)).ToArray();
        var known = (await session.LoadManyAsync<UsageReceipt>(ct, ids)).Select(r => r.Id).ToHashSet(StringComparer.Ordinal);

        var fresh = unique.Where(e => !known.Contains(UsageReceipt.IdOf(e.Tenant, e.Id))).ToList();
        foreach (var e in fresh)
            session.Insert(new UsageReceipt(UsageReceipt.IdOf(e.Tenant, e.Id), DateOnly.FromDateTime(e.Timestamp.UtcDateTime)));

        foreach (var stream in fresh.Select(UsageRecorded.From).GroupBy(r => BillingPeriod.UsageStream(r.Tenant, r.Month)))
            session.Events.Append(stream.Key, stream.Cast<object>().ToArray());

        await session.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        Recorded.Add(fresh.Count);
        Duplicates.Add(batch.Length - fresh.Count);
    }
}

/// <summary>Billing's PostgreSQL, for the few statements that go around Marten (advisory locks).</summary>
public sealed record BillingDatabase(NpgsqlDataSource DataSource);
