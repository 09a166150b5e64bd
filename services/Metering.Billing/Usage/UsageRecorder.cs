using System.Diagnostics.Metrics;
using Metering.UsageTopic;
using Npgsql;
using NpgsqlTypes;

namespace Metering.Billing.Usage;

/// <summary>
/// Records a batch of usage in one tenant-month transaction (<see cref="BillingWriter"/>): a receipt per (tenant, id),
/// one event per tenant-month holding the totals of only the usage whose receipt is new (where <see cref="TenantMonth.Record"/>
/// puts it) and, beside it, that usage (<see cref="BillingStore.BatchUsage"/>), and the inline projections. All of it commits or none of it does, so a redelivered or re-sent event is recorded once.
/// Each receipt names the event that records its usage (<see cref="UsageRecordings"/>): the event's id is chosen before
/// the receipts are written, so receipt and recording are one row written once. Receipts are dated by the UTC day of
/// <paramref name="clock"/>, not by the database session's time zone, and kept for good.
/// </summary>
public sealed class UsageRecorder(IDocumentStore store, BillingDatabase database, TimeProvider? clock = null)
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly BillingWriter _writer = new(store, database);

    private static readonly Counter<long> Recorded = MeteringTelemetry.Meter.CreateCounter<long>("metering.billing.usage.recorded", description: "Usage events recorded for billing");
    private static readonly Counter<long> Duplicates = MeteringTelemetry.Meter.CreateCounter<long>("metering.billing.usage.duplicates", description: "Usage events already recorded");

    /// <summary>Returns the number of events recorded now, that is, not recorded before.</summary>
    public async Task<int> RecordAsync(IReadOnlyList<UsageEvent> batch, CancellationToken ct)
    {
        var schema = store.Options.DatabaseSchemaName;
        var unique = batch.DistinctBy(e => (e.Tenant, e.Id)).ToList();

        await using var write = await _writer.BeginTenantMonthsAsync(unique.Select(e => e.Tenant), ct);
        var (connection, transaction) = (write.Connection, write.Transaction);

        var keys = unique.Select(e => UsageKey.Of(e.Tenant, e.Id)).ToArray();
        var periods = unique.Select(e => BillingPeriod.Of(e.Timestamp)).ToArray();
        // One event per tenant and month of the usage's timestamp (wherever TenantMonth.Record puts it): its id, chosen now.
        var eventIds = new Dictionary<(string Tenant, string Month), Guid>();
        var eventOf = unique.Select((e, i) => eventIds.TryGetValue((e.Tenant, periods[i]), out var id) ? id : eventIds[(e.Tenant, periods[i])] = Guid.CreateVersion7()).ToArray();
        var today = DateOnly.FromDateTime(_clock.GetUtcNow().UtcDateTime);
        var fresh = await WriteReceiptsAsync(schema, keys, eventOf, periods, today, connection, transaction, ct);

        if (fresh.Count < batch.Count) await CountDuplicatesAsync(schema, batch, unique, keys, fresh, connection, transaction, ct);

        var months = unique.Where((_, i) => fresh.Contains(keys[i])).GroupBy(e => (e.Tenant, Month: BillingPeriod.Of(e.Timestamp)))
            .Select(m => (m.Key, Usage: m.Select(RecordedUsage.From).ToList())).ToList();
        var finalized = await write.FinalizedFromAsync(months.Select(m => m.Key), ct);
        foreach (var (month, usage) in months)
            write.Append(eventIds[month], TenantMonth.Record(month.Tenant, month.Month, usage, finalized));
        await WriteBatchUsageAsync(schema, months.Select(m => (eventIds[m.Key], m.Usage)), connection, transaction, ct);
        await write.CommitAsync(ct);
        Recorded.Add(fresh.Count);
        Duplicates.Add(batch.Count - fresh.Count);
        return fresh.Count;
    }

    /// <summary>
    /// Writes the receipts of the batch's usage not recorded before; answers their keys. Most batches are all new, so the
    /// plain insert is tried first: it costs PostgreSQL about half of an <c>insert … on conflict do nothing returning</c>
    /// (which probes each key, then inserts it speculatively and confirms it). No other writer inserts these keys meanwhile
    /// (the tenants' locks), so a unique violation means some were recorded before: back to the savepoint, and the
    /// statement that passes over them.
    /// </summary>
    private static async Task<HashSet<Guid>> WriteReceiptsAsync(string schema, Guid[] keys, Guid[] events, string[] periods, DateOnly today,
        NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken ct)
    {
        const string Savepoint = "receipts";
        var insert = $"""
            insert into {schema}.{BillingStore.UsageReceipts} (usage_key, event_id, period, recorded_on)
            select k, e, p, @today from unnest(@keys, @events, @periods) as t(k, e, p)
            """;
        await transaction.SaveAsync(Savepoint, ct);
        try
        {
            await using var all = Receipts(insert);
            await all.ExecuteNonQueryAsync(ct);
            return [.. keys];
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation && e.TableName == BillingStore.UsageReceipts)
        {
            await transaction.RollbackAsync(Savepoint, ct);
        }
        var fresh = new HashSet<Guid>();
        await using var some = Receipts(insert + " on conflict do nothing returning usage_key");
        await using var reader = await some.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) fresh.Add(reader.GetGuid(0));
        return fresh;

        NpgsqlCommand Receipts(string sql) => new(sql, connection, transaction)
        {
            Parameters =
            {
                new NpgsqlParameter("keys", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { Value = keys },
                new NpgsqlParameter("events", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { Value = events },
                new NpgsqlParameter("periods", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = periods },
                new NpgsqlParameter("today", NpgsqlDbType.Date) { Value = today },
            },
        };
    }

    /// <summary>
    /// Keeps each new batch event's usage beside it (<see cref="UsageRecordings"/>): one row per event, its usage as the
    /// event store's serializer writes it, so the projections, which read every event back, never read the usage.
    /// </summary>
    private async Task WriteBatchUsageAsync(string schema, IEnumerable<(Guid Event, List<RecordedUsage> Usage)> batches, NpgsqlConnection connection,
        NpgsqlTransaction transaction, CancellationToken ct)
    {
        var rows = batches.ToList();
        if (rows.Count == 0) return;
        var serializer = store.Options.Serializer();
        await using var command = new NpgsqlCommand(
            $"insert into {schema}.{BillingStore.BatchUsage} (event_id, usage) select * from unnest(@events, @usage)", connection, transaction);
        command.Parameters.Add(new NpgsqlParameter("events", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { Value = rows.Select(r => r.Event).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("usage", NpgsqlDbType.Array | NpgsqlDbType.Json) { Value = rows.Select(r => serializer.ToJson(r.Usage)).ToArray() });
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// Counts the batch's events not recorded now in the month of the usage they repeat: the original's, from its
    /// receipt (or this batch's first copy), not the re-sent copy's timestamp. A receipt written before receipts kept
    /// their month counts in the copy's month.
    /// </summary>
    private static async Task CountDuplicatesAsync(string schema, IReadOnlyList<UsageEvent> batch, IReadOnlyList<UsageEvent> unique, Guid[] keys,
        HashSet<Guid> fresh, NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken ct)
    {
        var original = new Dictionary<(string, string), string>();
        for (var i = 0; i < unique.Count; i++) original[(unique[i].Tenant, unique[i].Id)] = BillingPeriod.Of(unique[i].Timestamp);
        var seen = keys.Where(k => !fresh.Contains(k)).ToArray();
        if (seen.Length > 0)
        {
            await using var lookup = new NpgsqlCommand(
                $"select usage_key, period from {schema}.{BillingStore.UsageReceipts} where usage_key = any(@keys) and period is not null", connection, transaction);
            lookup.Parameters.Add(new NpgsqlParameter("keys", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { Value = seen });
            var periods = new Dictionary<Guid, string>();
            await using (var reader = await lookup.ExecuteReaderAsync(ct))
                while (await reader.ReadAsync(ct)) periods[reader.GetGuid(0)] = reader.GetString(1);
            for (var i = 0; i < unique.Count; i++)
                if (periods.TryGetValue(keys[i], out var period)) original[(unique[i].Tenant, unique[i].Id)] = period;
        }
        // Every copy but the recorded one is a duplicate; when none was recorded now, every copy is.
        var dropped = batch.Select(e => (e.Tenant, e.Id)).CountBy(k => k)
            .Select(k => (Period: original[k.Key], Count: (long)(fresh.Contains(UsageKey.Of(k.Key.Tenant, k.Key.Id)) ? k.Value - 1 : k.Value)))
            .Where(m => m.Count > 0)
            .GroupBy(m => m.Period)
            .Select(g => (Period: g.Key, Count: g.Sum(m => m.Count)))
            .ToList();
        await using var command = new NpgsqlCommand($"""
            insert into {schema}.{BillingStore.DuplicateCounts} (period, duplicates)
            select * from unnest(@periods, @counts)
            on conflict (period) do update set duplicates = {BillingStore.DuplicateCounts}.duplicates + excluded.duplicates
            """, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter("periods", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = dropped.Select(d => d.Period).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("counts", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = dropped.Select(d => d.Count).ToArray() });
        await command.ExecuteNonQueryAsync(ct);
    }
}
