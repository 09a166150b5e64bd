using JasperFx.Events;
using Marten.Events.Projections;
using Metering.UsageTopic;
using Weasel.Postgresql;
using Weasel.Postgresql.Tables;

namespace Metering.Billing.TenantMonths;

/// <summary>
/// Where each usage was recorded: its usage key and the id of the <see cref="UsageBatchRecorded"/> event that holds it,
/// written with the batch by an inline projection (<see cref="UsageRecordingsProjection"/>, one statement per transaction). A void finds its recording here, and the ledger and spend the
/// team it was charged to, instead of searching the JSON of a month's batches. The first recording of a usage wins
/// (a re-send after its receipt was pruned is recorded again, and a void refers to the original).
/// </summary>
public static class UsageRecordings
{
    public const string Table = "usage_recordings";

    public static Table Definition(string schema)
    {
        var table = new Table(new PostgresqlObjectName(schema, Table, SchemaUtils.IdentifierUsage.General));
        table.AddColumn<Guid>("usage_key").AsPrimaryKey();
        table.AddColumn<Guid>("event_id").NotNull();
        return table;
    }

    /// <summary>Parameters: the usage keys and, for each, its event id (arrays of the same length).</summary>
    public static string InsertSql(string schema) =>
        $"insert into {schema}.{Table} (usage_key, event_id) select * from unnest(?::uuid[], ?::uuid[]) on conflict do nothing";

    /// <summary>Parameter: the usage key. Answers the recording event's id.</summary>
    public static string EventOfSql(string schema) => $"select event_id from {schema}.{Table} where usage_key = ?";

    /// <summary>The sequence of the event that recorded a voided usage, when it precedes the void (null: not recorded before it).</summary>
    public static async Task<long?> RecordingSequenceAsync(IDocumentOperations operations, long voidSequence, UsageVoidRecorded voided, CancellationToken ct)
    {
        var schema = operations.DocumentStore.Options.Events.DatabaseSchemaName;
        var sequences = await operations.AdvancedSql.QueryAsync<long>($"""
            select e.seq_id from {schema}.{Table} r join {schema}.mt_events e on e.id = r.event_id
            where r.usage_key = ? and e.seq_id < ?
            """, ct, UsageKey.Of(voided.Tenant, voided.Usage.Id), voidSequence);
        return sequences.Count == 0 ? null : sequences[0];
    }

    /// <summary>
    /// Enters the recordings stored before this index existed (run by the migration, only while the index is empty): the
    /// usage key is <see cref="Metering.UsageTopic.UsageKey"/>'s, the first 16 bytes of SHA-256 over tenant, newline and
    /// id, in the byte order .NET gives a Guid made of them.
    /// </summary>
    public static async Task<int> BackfillAsync(IDocumentStore store, BillingDatabase database, CancellationToken ct)
    {
        var schema = store.Options.Events.DatabaseSchemaName;
        var sql = $"""
            insert into {schema}.{Table} (usage_key, event_id)
            select distinct on (usage_key) usage_key, id from (
                select e.id, e.seq_id, encode(substring(h from 4 for 1) || substring(h from 3 for 1) || substring(h from 2 for 1) || substring(h from 1 for 1)
                    || substring(h from 6 for 1) || substring(h from 5 for 1) || substring(h from 8 for 1) || substring(h from 7 for 1)
                    || substring(h from 9 for 8), 'hex')::uuid as usage_key
                from {schema}.mt_events e
                cross join lateral jsonb_array_elements(e.data->'Usage') u
                cross join lateral (select sha256(convert_to((e.data->>'Tenant') || E'\n' || (u->>'Id'), 'UTF8')) as h) hashed
                where e.type = '{TenantMonthStore.UsageBatchRecordedName}'
                  and not exists (select 1 from {schema}.{Table})
            ) as recorded
            order by usage_key, seq_id
            on conflict do nothing
            """;
        await using var command = database.DataSource.CreateCommand(sql);
        return await command.ExecuteNonQueryAsync(ct);
    }
}

/// <summary>Part of the migration: fills the recordings index of a store written before it existed (see <see cref="UsageRecordings.BackfillAsync"/>).</summary>
public sealed class UsageRecordingsBackfill(IDocumentStore store, BillingDatabase database, ILogger<UsageRecordingsBackfill> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var entered = await UsageRecordings.BackfillAsync(store, database, cancellationToken);
        if (entered > 0) logger.LogInformation("Entered {Count} recorded usage events in the recordings index", entered);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>
/// Inline: enters every recording in <see cref="UsageRecordings"/> in the transaction that appends it, whoever appends
/// it, with one statement for all of the transaction's batches (the first recording of a usage key wins).
/// </summary>
public sealed class UsageRecordingsProjection : IProjection
{
    public Task ApplyAsync(IDocumentOperations operations, IReadOnlyList<IEvent> events, CancellationToken cancellation)
    {
        var recorded = events.Where(e => e.Data is UsageBatchRecorded)
            .SelectMany(e => ((UsageBatchRecorded)e.Data).Usage.Select(u => (Key: UsageKey.Of(((UsageBatchRecorded)e.Data).Tenant, u.Id), Event: e.Id)))
            .ToList();
        if (recorded.Count > 0)
            operations.QueueSqlCommand(UsageRecordings.InsertSql(operations.DocumentStore.Options.DatabaseSchemaName),
                recorded.Select(r => r.Key).ToArray(), recorded.Select(r => r.Event).ToArray());
        return Task.CompletedTask;
    }
}
