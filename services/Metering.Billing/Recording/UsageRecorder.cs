using System.Diagnostics.Metrics;
using Marten;
using Metering.Contracts.Usage;
using Metering.ServiceDefaults;
using Metering.UsageTopic;
using Npgsql;
using NpgsqlTypes;

namespace Metering.Billing.Recording;

/// <summary>
/// Records a batch of usage in one PostgreSQL transaction: a receipt per (tenant, id), one event per tenant-month
/// stream holding only the usage whose receipt is new, the inline projections, and the dead letters' receipts. All of it
/// commits or none of it does, so a redelivered or re-sent event is recorded once.
/// </summary>
public sealed class UsageRecorder(IDocumentStore store, BillingDatabase database) : IReceiptStore
{
    private static readonly Counter<long> Recorded = MeteringTelemetry.Meter.CreateCounter<long>("metering.billing.usage.recorded", description: "Usage events recorded for billing");
    private static readonly Counter<long> Duplicates = MeteringTelemetry.Meter.CreateCounter<long>("metering.billing.usage.duplicates", description: "Usage events already recorded");

    /// <summary>Returns the number of events recorded now, that is, not recorded before.</summary>
    public async Task<int> RecordAsync(IReadOnlyList<UsageEvent> batch, IReadOnlyList<RejectedRecord> rejected, CancellationToken ct)
    {
        var schema = store.Options.DatabaseSchemaName;
        var unique = batch.DistinctBy(e => (e.Tenant, e.Id)).ToList();
        var streams = unique.Select(e => BillingPeriod.UsageStream(e.Tenant, BillingPeriod.Of(e.Timestamp))).Distinct().ToArray();

        await using var connection = await database.DataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        // Writers of the same tenant-month streams take turns: overlapping batches (two instances during a rebalance,
        // a redelivery racing the original) would otherwise race on receipts and projections. Sorted, so no deadlock.
        await using (var lockStreams = new NpgsqlCommand(
            "select count(pg_advisory_xact_lock(hashtextextended(s, 0))) from (select unnest(@streams) as s order by 1) as sorted",
            connection, transaction))
        {
            lockStreams.Parameters.AddWithValue("streams", streams);
            await lockStreams.ExecuteScalarAsync(ct);
        }

        var keys = unique.Select(e => UsageKey.Of(e.Tenant, e.Id)).ToArray();
        var fresh = new HashSet<Guid>();
        await using (var receipts = new NpgsqlCommand($"""
            insert into {schema}.{BillingStore.UsageReceipts} (usage_key)
            select unnest(@keys)
            on conflict do nothing
            returning usage_key
            """, connection, transaction))
        {
            receipts.Parameters.Add(new NpgsqlParameter("keys", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { Value = keys });
            await using var reader = await receipts.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) fresh.Add(reader.GetGuid(0));
        }

        if (rejected.Count > 0) await RecordDeadLettersAsync(schema, rejected, connection, transaction, ct);

        await using var session = store.LightweightSession(Marten.Services.SessionOptions.ForTransaction(transaction, shouldAutoCommit: false));
        foreach (var stream in unique.Where((_, i) => fresh.Contains(keys[i]))
                     .GroupBy(e => (e.Tenant, Month: BillingPeriod.Of(e.Timestamp))))
        {
            var recorded = new UsageBatchRecorded(stream.Key.Tenant, stream.Key.Month, stream.Select(RecordedUsage.From).ToList());
            session.Events.Append(BillingPeriod.UsageStream(stream.Key.Tenant, stream.Key.Month), recorded);
        }
        await session.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        Recorded.Add(fresh.Count);
        Duplicates.Add(batch.Count - fresh.Count);
        return fresh.Count;
    }

    public async Task<long> PruneRecordedBeforeAsync(DateOnly day, CancellationToken ct)
    {
        await using var command = database.DataSource.CreateCommand(
            $"delete from {store.Options.DatabaseSchemaName}.{BillingStore.UsageReceipts} where recorded_on < @day");
        command.Parameters.AddWithValue("day", day);
        return await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Each dead letter is counted once however often its record is redelivered (reconciliation reads these).</summary>
    private static async Task RecordDeadLettersAsync(string schema, IReadOnlyList<RejectedRecord> rejected, NpgsqlConnection connection,
        NpgsqlTransaction transaction, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand($"""
            insert into {schema}.{BillingStore.DeadLetters} (origin, record_key, reason, produced_at)
            select * from unnest(@origins, @keys, @reasons, @produced)
            on conflict do nothing
            """, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter("origins", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = rejected.Select(DeadLetterProducer.OriginOf).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("keys", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = rejected.Select(r => (object?)r.Key ?? DBNull.Value).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("reasons", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = rejected.Select(r => r.Reason).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("produced", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { Value = rejected.Select(r => r.ProducedAt.UtcDateTime).ToArray() });
        await command.ExecuteNonQueryAsync(ct);
    }
}

/// <summary>Billing's PostgreSQL, for the statements that go around Marten (advisory locks, receipts).</summary>
public sealed record BillingDatabase(NpgsqlDataSource DataSource);
