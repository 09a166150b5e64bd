using Metering.UsageTopic;

namespace Metering.Billing.TenantMonths;

/// <summary>
/// Where each usage was recorded, and what it was: the receipt of its usage key (<see cref="BillingStore.UsageReceipts"/>)
/// holds the id of the <see cref="UsageBatchRecorded"/> event that recorded it, and <see cref="BillingStore.BatchUsage"/>
/// that event's usage (the event holds only its totals); both are written with the event by <see cref="Usage.UsageRecorder"/>,
/// the one writer of these events, the event's id in the one statement that writes the receipt. A void finds its recording here, and the ledger and spend the team it was
/// charged to, instead of searching the JSON of a month's batches. Receipts are kept for good, so a usage is recorded
/// once however late it is re-sent; a store from before kept receipts 63 days and the recordings in a table of their
/// own, and there the first recording of a usage wins.
/// </summary>
public static class UsageRecordings
{
    /// <summary>The table of recordings before they moved into the receipts (<see cref="MigrateAsync"/> moves a store's rows and drops it).</summary>
    public const string FormerTable = "usage_recordings";

    /// <summary>Parameter: the usage key. Answers the recording event's id.</summary>
    public static string EventOfSql(string schema) =>
        $"select event_id from {schema}.{BillingStore.UsageReceipts} where usage_key = ? and event_id is not null";

    /// <summary>Parameter: the batch event's id. Answers its usage (kept beside events that hold only totals) as JSON, or nothing.</summary>
    public static string BatchUsageSql(string schema) =>
        $"select usage::text from {schema}.{BillingStore.BatchUsage} where event_id = ?";

    /// <summary>The sequence of the event that recorded a voided usage, when it precedes the void (null: not recorded before it).</summary>
    public static async Task<long?> RecordingSequenceAsync(IDocumentOperations operations, long voidSequence, UsageVoidRecorded voided, CancellationToken ct)
    {
        var schema = operations.DocumentStore.Options.Events.DatabaseSchemaName;
        var sequences = await operations.AdvancedSql.QueryAsync<long>($"""
            select e.seq_id from {schema}.{BillingStore.UsageReceipts} r join {schema}.mt_events e on e.id = r.event_id
            where r.usage_key = ? and e.seq_id < ?
            """, ct, UsageKey.Of(voided.Tenant, voided.Usage.Id), voidSequence);
        return sequences.Count == 0 ? null : sequences[0];
    }

    /// <summary>
    /// Brings the recordings of a store written before the receipts held them into the receipts (run by the migration):
    /// the rows of <see cref="FormerTable"/>, which is then dropped, or, in a store from before that table existed (no
    /// receipt names an event), every recording in the events' JSON. The first recording of a usage wins; a receipt
    /// that was pruned comes back. Answers the receipts that got their recording.
    /// </summary>
    public static async Task<int> MigrateAsync(IDocumentStore store, BillingDatabase database, CancellationToken ct)
    {
        var schema = store.Options.Events.DatabaseSchemaName;
        var receipts = $"{schema}.{BillingStore.UsageReceipts}";
        // The first recording of a usage wins; a receipt's own recording stays.
        const string Enter = "on conflict (usage_key) do update set event_id = excluded.event_id where r.event_id is null";
        var sql = $"""
            do $$
            declare entered int := 0;
            begin
            -- Served the pruning of receipts, which are kept now.
            drop index if exists {schema}.ix_receipts_recorded_on;
            if to_regclass('{schema}.{FormerTable}') is not null then
                insert into {receipts} as r (usage_key, event_id, recorded_on)
                select usage_key, event_id, (current_timestamp at time zone 'UTC')::date from {schema}.{FormerTable}
                {Enter};
                get diagnostics entered = row_count;
                drop table {schema}.{FormerTable};
            elsif not exists (select 1 from {receipts} where event_id is not null) then
                insert into {receipts} as r (usage_key, event_id, period, recorded_on)
                select distinct on (usage_key) usage_key, id, period, (current_timestamp at time zone 'UTC')::date from (
                    select e.id, e.seq_id, to_char((u->>'Timestamp')::timestamptz at time zone 'UTC', 'YYYY-MM') as period,
                        encode(substring(h from 4 for 1) || substring(h from 3 for 1) || substring(h from 2 for 1) || substring(h from 1 for 1)
                        || substring(h from 6 for 1) || substring(h from 5 for 1) || substring(h from 8 for 1) || substring(h from 7 for 1)
                        || substring(h from 9 for 8), 'hex')::uuid as usage_key
                    from {schema}.mt_events e
                    cross join lateral jsonb_array_elements(e.data->'Usage') u
                    cross join lateral (select sha256(convert_to((e.data->>'Tenant') || E'\n' || (u->>'Id'), 'UTF8')) as h) hashed
                    where e.type = '{TenantMonthStore.UsageBatchRecordedName}'
                ) as recorded
                order by usage_key, seq_id
                {Enter};
                get diagnostics entered = row_count;
            end if;
            perform set_config('metering.recordings_entered', entered::text, true);
            end $$;
            select current_setting('metering.recordings_entered', true)::int;
            """;
        await using var connection = await database.DataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using var command = new Npgsql.NpgsqlCommand(sql, connection, transaction);
        var entered = (int)(await command.ExecuteScalarAsync(ct))!;
        await transaction.CommitAsync(ct);
        return entered;
    }
}

/// <summary>Part of the migration: brings the recordings of a store written before the receipts held them into the receipts (see <see cref="UsageRecordings.MigrateAsync"/>).</summary>
public sealed class UsageRecordingsMigration(IDocumentStore store, BillingDatabase database, ILogger<UsageRecordingsMigration> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var entered = await UsageRecordings.MigrateAsync(store, database, cancellationToken);
        if (entered > 0) logger.LogInformation("Entered the recordings of {Count} usage events in their receipts", entered);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
