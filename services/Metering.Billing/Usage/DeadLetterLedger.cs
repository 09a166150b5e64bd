using System.Text;
using Confluent.Kafka;
using Metering.Contracts;
using Metering.Kafka;
using Metering.UsageTopic;
using Npgsql;
using NpgsqlTypes;

namespace Metering.Billing.Usage;

/// <summary>
/// Counts dead letters for reconciliation: follows <c>metering.usage.dead-letters.v1</c> in its own group and records
/// each usage-topic record there once in <c>billing.dead_letters</c>, keyed by its origin header, with the consumer
/// groups that set it apart. A record both Budgets and Billing dead-letter (or one published again after a redelivery)
/// keeps one row; one that only Budgets' store refused is counted all the same. Offsets are committed after the rows.
/// </summary>
public sealed class DeadLetterLedger(IConfiguration configuration, IDocumentStore store, BillingDatabase database, ILogger<DeadLetterLedger> logger)
    : SideTopicService(configuration, logger)
{
    protected override string Topic => KafkaTopics.UsageDeadLetters.Name;
    protected override string GroupId { get; } = (configuration["METERING_BILLING_GROUP_ID"] ?? "metering-billing") + "-dead-letters";
    protected override string RecordName => "dead-letter record";
    protected override int MaxBatch => 500;

    public override async Task HandleAsync(SideTopicBatch batch, CancellationToken ct)
    {
        var letters = new List<DeadLetterRow>();
        foreach (var record in batch.Records)
        {
            if (DeadLetterRow.From(record) is { } row) letters.Add(row);
            else batch.Skip(record, $"it has no {DeadLetterProducer.OriginHeader} header, so it is not one of Metering's");
        }
        // One row per origin, however many groups or redeliveries published it (one statement cannot update a row twice).
        var rows = letters.GroupBy(l => l.Origin, StringComparer.Ordinal)
            .Select(g => g.First() with { Groups = [.. g.SelectMany(l => l.Groups).Distinct(StringComparer.Ordinal)] })
            .ToList();
        if (rows.Count == 0) return;

        var schema = store.Options.DatabaseSchemaName;
        var marks = rows.SelectMany(r => r.Groups.Select(g => (r.Origin, Group: g))).ToList();
        await using var command = database.DataSource.CreateCommand($"""
            with letters as (select * from unnest(@origins, @keys, @reasons, @produced, @causes) as t(origin, record_key, reason, produced_at, cause)),
                 marks as (select origin, array_agg(distinct grp) as groups from unnest(@mark_origins, @mark_groups) as m(origin, grp) group by origin)
            insert into {schema}.{BillingStore.DeadLetters} as d (origin, record_key, reason, produced_at, cause, groups)
            select l.origin, l.record_key, l.reason, l.produced_at, l.cause, coalesce(m.groups, array[]::text[])
            from letters l left join marks m using (origin)
            on conflict (origin) do update
            set groups = (select coalesce(array_agg(distinct g order by g), array[]::text[]) from unnest(d.groups || excluded.groups) g)
            """);
        command.Parameters.Add(new NpgsqlParameter("origins", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = rows.Select(r => r.Origin).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("keys", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = rows.Select(r => (object?)r.Key ?? DBNull.Value).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("reasons", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = rows.Select(r => r.Reason).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("produced", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { Value = rows.Select(r => r.ProducedAt.UtcDateTime).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("causes", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = rows.Select(r => r.Cause).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("mark_origins", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = marks.Select(m => m.Origin).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("mark_groups", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = marks.Select(m => m.Group).ToArray() });
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>One dead letter as Billing counts it, read from the headers <see cref="DeadLetterProducer"/> writes.</summary>
    private sealed record DeadLetterRow(string Origin, string? Key, string Reason, DateTimeOffset ProducedAt, string Cause, IReadOnlyList<string> Groups)
    {
        public static DeadLetterRow? From(ConsumeResult<byte[]?, byte[]?> record)
        {
            var headers = record.Message.Headers;
            if (Header(headers, DeadLetterProducer.OriginHeader) is not { Length: > 0 } origin) return null;
            var producedAt = long.TryParse(Header(headers, DeadLetterProducer.ProducedAtHeader), NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
                             || long.TryParse(origin[(origin.LastIndexOf('@') + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out ms)
                ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
                : new DateTimeOffset(record.Message.Timestamp.UtcDateTime);
            // Dead letters published before the cause and group headers existed were Billing's, and all of them invalid.
            var cause = Header(headers, DeadLetterProducer.CauseHeader) switch
            {
                DeadLetterCauses.Refused => DeadLetterCauses.Refused,
                DeadLetterHeaders.IngestRejected => DeadLetterHeaders.IngestRejected,
                _ => DeadLetterCauses.Invalid,
            };
            var group = Header(headers, DeadLetterProducer.GroupHeader);
            return new DeadLetterRow(Storable(origin), record.Message.Key is { } key ? Storable(Encoding.UTF8.GetString(key)) : null,
                Storable(Header(headers, DeadLetterProducer.ReasonHeader) ?? "(no reason given)"), producedAt, cause,
                group is { Length: > 0 } ? [Storable(group)] : []);
        }

        private static string? Header(Headers? headers, string name) =>
            headers?.TryGetLastBytes(name, out var bytes) == true ? Encoding.UTF8.GetString(bytes) : null;

        /// <summary>PostgreSQL text cannot hold U+0000, which a bad record's key or a field name in its reason may carry.</summary>
        private static string Storable(string text) => text.Replace('\0', '\uFFFD');
    }
}
