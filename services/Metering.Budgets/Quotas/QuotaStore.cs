using System.Text.Json;
using Metering.Contracts;
using NpgsqlTypes;

namespace Metering.Budgets.Quotas;

/// <summary>Each tenant's current limits and every change to them (who, when, before, after), written together.</summary>
public sealed class QuotaStore(NpgsqlDataSource dataSource)
{
    private const string Schema = BudgetStore.Schema;

    public async Task<IReadOnlyList<QuotaLimit>> LoadAsync(string tenant, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"select limits from {Schema}.quotas where tenant = @tenant");
        command.Parameters.AddWithValue("tenant", tenant);
        return await command.ExecuteScalarAsync(ct) is string json ? Deserialize(json) : [];
    }

    public async Task SaveAsync(string tenant, IReadOnlyList<QuotaLimit> before, IReadOnlyList<QuotaLimit> after, string changedBy,
        DateTimeOffset at, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using (var upsert = new NpgsqlCommand($"""
            insert into {Schema}.quotas (tenant, limits, updated_at) values (@tenant, @after, @at)
            on conflict (tenant) do update set limits = excluded.limits, updated_at = excluded.updated_at
            """, connection, transaction))
        {
            upsert.Parameters.AddWithValue("tenant", tenant);
            upsert.Parameters.Add(new NpgsqlParameter("after", NpgsqlDbType.Jsonb) { Value = Serialize(after) });
            upsert.Parameters.AddWithValue("at", at.UtcDateTime);
            await upsert.ExecuteNonQueryAsync(ct);
        }
        await using (var history = new NpgsqlCommand($"""
            insert into {Schema}.quota_changes (tenant, changed_at, changed_by, before, after) values (@tenant, @at, @by, @before, @after)
            """, connection, transaction))
        {
            history.Parameters.AddWithValue("tenant", tenant);
            history.Parameters.AddWithValue("at", at.UtcDateTime);
            history.Parameters.AddWithValue("by", changedBy);
            history.Parameters.Add(new NpgsqlParameter("before", NpgsqlDbType.Jsonb) { Value = Serialize(before) });
            history.Parameters.Add(new NpgsqlParameter("after", NpgsqlDbType.Jsonb) { Value = Serialize(after) });
            await history.ExecuteNonQueryAsync(ct);
        }
        await transaction.CommitAsync(ct);
    }

    public async Task<IReadOnlyList<QuotaChange>> HistoryAsync(string tenant, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand(
            $"select changed_at, changed_by, before::text, after::text from {Schema}.quota_changes where tenant = @tenant order by id");
        command.Parameters.AddWithValue("tenant", tenant);
        var changes = new List<QuotaChange>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            changes.Add(new QuotaChange(tenant, reader.GetFieldValue<DateTimeOffset>(0), reader.GetString(1), Deserialize(reader.GetString(2)), Deserialize(reader.GetString(3))));
        return changes;
    }

    private static string Serialize(IReadOnlyList<QuotaLimit> limits) => JsonSerializer.Serialize(limits, MeteringJson.Options);

    private static IReadOnlyList<QuotaLimit> Deserialize(string json) => JsonSerializer.Deserialize<List<QuotaLimit>>(json, MeteringJson.Options) ?? [];
}
