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

    /// <summary>Every table <see cref="MigrateAsync"/> creates.</summary>
    public static readonly string[] Tables =
        [.. new[] { "usage_seen", "quotas", "quota_changes", "reservations", "alerts_sent", "voids", "statuses", "period_totals" }.Select(t => $"{Schema}.{t}")];

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
            create table if not exists {Schema}.quotas (
                tenant text primary key,
                limits jsonb not null,
                updated_at timestamptz not null);
            create table if not exists {Schema}.quota_changes (
                id bigserial primary key,
                tenant text not null,
                changed_at timestamptz not null,
                changed_by text not null,
                before jsonb not null,
                after jsonb not null);
            create index if not exists ix_quota_changes_tenant on {Schema}.quota_changes (tenant, id);
            create table if not exists {Schema}.reservations (
                tenant text not null,
                id text not null,
                meter text not null,
                quantity numeric not null,
                expires_at timestamptz not null,
                primary key (tenant, id));
            alter table {Schema}.reservations add column if not exists model text;
            alter table {Schema}.reservations add column if not exists gpu_type text;
            create table if not exists {Schema}.alerts_sent (
                tenant text not null,
                meter text not null,
                period text not null,
                period_start date not null,
                threshold text not null,
                primary key (tenant, meter, period, period_start, threshold));
            create table if not exists {Schema}.voids (
                tenant text not null,
                id text not null,
                voided_at timestamptz not null default now(),
                primary key (tenant, id));
            create table if not exists {Schema}.statuses (
                tenant text primary key,
                status text not null,
                changed_at timestamptz not null);
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
        await AddToTotalsAsync(tenant, applied, connection, transaction, ct);

        var settled = applied.Where(i => i.ReservationId is not null).Select(i => i.ReservationId!).ToArray();
        if (settled.Length > 0)
        {
            await using var settle = new NpgsqlCommand($"delete from {Schema}.reservations where tenant = @tenant and id = any(@ids)", connection, transaction);
            settle.Parameters.AddWithValue("tenant", tenant);
            settle.Parameters.AddWithValue("ids", settled);
            await settle.ExecuteNonQueryAsync(ct);
        }

        await transaction.CommitAsync(ct);
        return applied;
    }

    /// <summary>Adds the increments (negative ones subtract) to the tenant's day and month totals, in one statement.</summary>
    private static async Task AddToTotalsAsync(string tenant, IEnumerable<UsageIncrement> increments, NpgsqlConnection connection,
        NpgsqlTransaction transaction, CancellationToken ct)
    {
        var totals = increments.SelectMany(PeriodTotal.Of)
            .GroupBy(t => (t.Meter, t.Period, t.Start))
            .Select(g => new PeriodTotal(g.Key.Meter, g.Key.Period, g.Key.Start, g.Sum(t => t.Used)))
            .ToList();
        if (totals.Count == 0) return;
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

    /// <summary>
    /// Records a void once. When the usage was counted, subtracts it (the increment carries negative quantities) and
    /// answers true; when it was not counted yet, marks its id as seen so it never will be, and answers false.
    /// </summary>
    public async Task<bool> VoidAsync(string tenant, UsageIncrement giveBack, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using (var first = new NpgsqlCommand($"insert into {Schema}.voids (tenant, id) values (@tenant, @id) on conflict do nothing", connection, transaction))
        {
            first.Parameters.AddWithValue("tenant", tenant);
            first.Parameters.AddWithValue("id", giveBack.Id);
            if (await first.ExecuteNonQueryAsync(ct) == 0) return false;
        }
        bool counted;
        await using (var seen = new NpgsqlCommand(
            $"insert into {Schema}.usage_seen (tenant, id, day) values (@tenant, @id, @day) on conflict do nothing", connection, transaction))
        {
            seen.Parameters.AddWithValue("tenant", tenant);
            seen.Parameters.AddWithValue("id", giveBack.Id);
            seen.Parameters.AddWithValue("day", giveBack.Day);
            counted = await seen.ExecuteNonQueryAsync(ct) == 0;
        }
        if (counted) await AddToTotalsAsync(tenant, [giveBack], connection, transaction, ct);
        await transaction.CommitAsync(ct);
        return counted;
    }

    public async Task<IReadOnlyList<Reservation>> LoadReservationsAsync(string tenant, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"select id, meter, quantity, expires_at, model, gpu_type from {Schema}.reservations where tenant = @tenant");
        command.Parameters.AddWithValue("tenant", tenant);
        var reservations = new List<Reservation>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            reservations.Add(new(reader.GetString(0), reader.GetString(1), reader.GetDecimal(2), reader.GetFieldValue<DateTimeOffset>(3),
                reader.IsDBNull(4) ? null : reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetString(5)));
        return reservations;
    }

    public async Task AddReservationAsync(string tenant, Reservation reservation, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand(
            $"insert into {Schema}.reservations (tenant, id, meter, quantity, expires_at, model, gpu_type) values (@tenant, @id, @meter, @quantity, @expires, @model, @gpu)");
        command.Parameters.AddWithValue("tenant", tenant);
        command.Parameters.AddWithValue("id", reservation.Id);
        command.Parameters.AddWithValue("meter", reservation.Meter);
        command.Parameters.AddWithValue("quantity", reservation.Quantity);
        command.Parameters.AddWithValue("expires", reservation.ExpiresAt.UtcDateTime);
        command.Parameters.AddWithValue("model", (object?)reservation.Model ?? DBNull.Value);
        command.Parameters.AddWithValue("gpu", (object?)reservation.GpuType ?? DBNull.Value);
        await command.ExecuteNonQueryAsync(ct);
    }

    public async Task DeleteReservationsAsync(string tenant, IEnumerable<string> ids, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"delete from {Schema}.reservations where tenant = @tenant and id = any(@ids)");
        command.Parameters.AddWithValue("tenant", tenant);
        command.Parameters.AddWithValue("ids", ids.ToArray());
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>True the first time an alert for this limit, period and threshold is recorded; false ever after.</summary>
    public async Task<bool> TryRecordAlertAsync(string tenant, LimitState state, string threshold, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"""
            insert into {Schema}.alerts_sent (tenant, meter, period, period_start, threshold) values (@tenant, @meter, @period, @start, @threshold)
            on conflict do nothing
            """);
        command.Parameters.AddWithValue("tenant", tenant);
        command.Parameters.AddWithValue("meter", state.Limit.Meter);
        command.Parameters.AddWithValue("period", state.Limit.Period);
        command.Parameters.AddWithValue("start", state.PeriodStart);
        command.Parameters.AddWithValue("threshold", threshold);
        return await command.ExecuteNonQueryAsync(ct) == 1;
    }

    public async Task<string?> LoadStatusAsync(string tenant, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"select status from {Schema}.statuses where tenant = @tenant");
        command.Parameters.AddWithValue("tenant", tenant);
        return await command.ExecuteScalarAsync(ct) as string;
    }

    public async Task SaveStatusAsync(string tenant, string status, DateTimeOffset at, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"""
            insert into {Schema}.statuses (tenant, status, changed_at) values (@tenant, @status, @at)
            on conflict (tenant) do update set status = excluded.status, changed_at = excluded.changed_at
            """);
        command.Parameters.AddWithValue("tenant", tenant);
        command.Parameters.AddWithValue("status", status);
        command.Parameters.AddWithValue("at", at.UtcDateTime);
        await command.ExecuteNonQueryAsync(ct);
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
