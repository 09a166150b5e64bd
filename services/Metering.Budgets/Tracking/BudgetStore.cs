using Npgsql;
using NpgsqlTypes;
using Metering.UsageTopic;

namespace Metering.Budgets.Tracking;

/// <summary>
/// PostgreSQL state of the budget grains. Applying usage records each (tenant, id) and adds the new ones to the
/// period totals in one transaction, so a redelivered or re-sent event is counted once and a crash between any
/// two steps leaves either all or nothing of a batch.
/// </summary>
public sealed class BudgetStore(NpgsqlDataSource dataSource) : IReceiptStore
{
    public const string Schema = "budgets";

    public async Task MigrateAsync(CancellationToken ct)
    {
        // Several instances may start at once; "if not exists" alone still races on the catalog.
        await using var command = dataSource.CreateCommand($"""
            begin;
            select pg_advisory_xact_lock(hashtext('{Schema}.budget_store'));
            create schema if not exists {Schema};
            create table if not exists {Schema}.usage_seen (
                tenant text not null,
                id text not null,
                day date not null,
                primary key (tenant, id));
            alter table {Schema}.usage_seen add column if not exists recorded_on date not null default current_date;
            create index if not exists ix_usage_seen_recorded_on_brin on {Schema}.usage_seen using brin (recorded_on);
            create table if not exists {Schema}.period_totals (
                tenant text not null,
                meter text not null,
                period text not null,
                period_start date not null,
                used numeric not null,
                primary key (tenant, period, period_start, meter));
            commit;
            """);
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Records the increments never seen before for this tenant and returns exactly those.</summary>
    public async Task<IReadOnlyList<UsageIncrement>> ApplyAsync(string tenant, IReadOnlyList<UsageIncrement> increments, CancellationToken ct)
    {
        // The same id may appear twice in one batch: keep the first.
        var unique = increments.DistinctBy(i => i.Id).ToList();

        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);

        var fresh = new HashSet<string>(StringComparer.Ordinal);
        await using (var seen = new NpgsqlCommand($"""
            insert into {Schema}.usage_seen (tenant, id, day)
            select @tenant, u.id, u.day from unnest(@ids, @days) as u(id, day)
            on conflict do nothing
            returning id
            """, connection, transaction))
        {
            seen.Parameters.AddWithValue("tenant", tenant);
            seen.Parameters.Add(new NpgsqlParameter("ids", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = unique.Select(i => i.Id).ToArray() });
            seen.Parameters.Add(new NpgsqlParameter("days", NpgsqlDbType.Array | NpgsqlDbType.Date) { Value = unique.Select(i => i.Day).ToArray() });
            await using var reader = await seen.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) fresh.Add(reader.GetString(0));
        }

        var applied = unique.Where(i => fresh.Contains(i.Id)).ToList();
        var totals = applied.SelectMany(PeriodTotal.Of)
            .GroupBy(t => (t.Meter, t.Period, t.Start))
            .Select(g => new PeriodTotal(g.Key.Meter, g.Key.Period, g.Key.Start, g.Sum(t => t.Used)))
            .ToList();

        if (totals.Count > 0)
        {
            await using var upsert = new NpgsqlCommand($"""
                insert into {Schema}.period_totals (tenant, meter, period, period_start, used)
                select @tenant, t.meter, t.period, t.start, t.used from unnest(@meters, @periods, @starts, @used) as t(meter, period, start, used)
                on conflict (tenant, period, period_start, meter) do update set used = {Schema}.period_totals.used + excluded.used
                """, connection, transaction);
            upsert.Parameters.AddWithValue("tenant", tenant);
            upsert.Parameters.Add(new NpgsqlParameter("meters", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = totals.Select(t => t.Meter).ToArray() });
            upsert.Parameters.Add(new NpgsqlParameter("periods", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = totals.Select(t => t.Period).ToArray() });
            upsert.Parameters.Add(new NpgsqlParameter("starts", NpgsqlDbType.Array | NpgsqlDbType.Date) { Value = totals.Select(t => t.Start).ToArray() });
            upsert.Parameters.Add(new NpgsqlParameter("used", NpgsqlDbType.Array | NpgsqlDbType.Numeric) { Value = totals.Select(t => t.Used).ToArray() });
            await upsert.ExecuteNonQueryAsync(ct);
        }

        await transaction.CommitAsync(ct);
        return applied;
    }

    public async Task<long> PruneRecordedBeforeAsync(DateOnly day, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"delete from {Schema}.usage_seen where recorded_on < @day");
        command.Parameters.AddWithValue("day", day);
        return await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The tenant's totals of the periods that start on or after <paramref name="since"/>.</summary>
    public async Task<IReadOnlyList<PeriodTotal>> LoadAsync(string tenant, DateOnly since, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand(
            $"select meter, period, period_start, used from {Schema}.period_totals where tenant = @tenant and period_start >= @since");
        command.Parameters.AddWithValue("tenant", tenant);
        command.Parameters.AddWithValue("since", since);
        var totals = new List<PeriodTotal>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            totals.Add(new(reader.GetString(0), reader.GetString(1), reader.GetFieldValue<DateOnly>(2), reader.GetDecimal(3)));
        return totals;
    }
}
