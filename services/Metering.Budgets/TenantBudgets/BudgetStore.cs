using NpgsqlTypes;
using Metering.UsageTopic;

namespace Metering.Budgets.TenantBudgets;

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
        [.. new[] { "usage_receipts", "quotas", "quota_changes", "reservations", "alerts_sent", "voids", "statuses", "period_totals", "tenant_progress", "alerts" }.Select(t => $"{Schema}.{t}")];

    /// <summary>
    /// Taken by every migration of the budgets schema (these tables and the cluster membership's): "if not exists" alone
    /// still races on the catalog when several instances, or two migrations, create the schema at once.
    /// </summary>
    public const string MigrationLock = $"select pg_advisory_xact_lock(hashtext('{Schema}.migrations'))";

    public async Task MigrateAsync(CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"""
            begin;
            {MigrationLock};
            create schema if not exists {Schema};
            -- A receipt per counted (tenant, id), keyed by its UsageKey (16 bytes of SHA-256 over both), dated by the UTC day it
            -- was written (whatever the session's time zone), which is what receipt pruning counts days by.
            create table if not exists {Schema}.usage_receipts (
                usage_key uuid primary key,
                recorded_on date not null default ((now() at time zone 'UTC')::date));
            create index if not exists ix_usage_receipts_recorded_on_brin on {Schema}.usage_receipts using brin (recorded_on);
            -- Upgrading a store whose receipts were keyed by (tenant, id) as text: each becomes its UsageKey, computed here as
            -- UsageKey.Of does (and in the byte order in which Npgsql writes a Guid), keeping the day it was written.
            do $upgrade$ begin
                if to_regclass('{Schema}.usage_seen') is not null then
                    insert into {Schema}.usage_receipts (usage_key, recorded_on)
                    select encode(substring(h from 4 for 1) || substring(h from 3 for 1) || substring(h from 2 for 1) || substring(h from 1 for 1)
                        || substring(h from 6 for 1) || substring(h from 5 for 1) || substring(h from 8 for 1) || substring(h from 7 for 1)
                        || substring(h from 9 for 8), 'hex')::uuid, recorded_on
                    from (select sha256(convert_to(tenant || E'\n' || id, 'UTF8')) as h, recorded_on from {Schema}.usage_seen) as seen
                    on conflict do nothing;
                    drop table {Schema}.usage_seen;
                end if;
            end $upgrade$;
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
            create index if not exists ix_reservations_expires_at on {Schema}.reservations (expires_at);
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
            create table if not exists {Schema}.tenant_progress (
                tenant text primary key,
                sequence bigint not null,
                previous bigint not null);
            -- Totals summed at more decimals than a .NET decimal reads back (costs before they kept PeriodTotal.Decimals).
            update {Schema}.period_totals set used = round(used, {PeriodTotal.Decimals}) where scale(used) > {PeriodTotal.Decimals};
            -- When the tenant's last batch of usage was stored: the tenant list's updated_at.
            alter table {Schema}.tenant_progress add column if not exists updated_at timestamptz not null default now();
            -- The tenant list pages in byte order of the id, whatever the database's collation: one index per table it reads.
            create index if not exists ix_quotas_tenant_c on {Schema}.quotas (tenant collate "C");
            create index if not exists ix_tenant_progress_tenant_c on {Schema}.tenant_progress (tenant collate "C");
            create index if not exists ix_statuses_tenant_c on {Schema}.statuses (tenant collate "C");
            create index if not exists ix_statuses_status_tenant_c on {Schema}.statuses (status, tenant collate "C");
            -- Every alert sent, for GET /v1/alerts; written with its alerts_sent row.
            create table if not exists {Schema}.alerts (
                id bigint generated always as identity primary key,
                tenant text not null,
                kind text not null,
                meter text not null,
                period text not null,
                period_start date not null,
                limit_value numeric not null,
                used numeric not null,
                forecast numeric,
                at timestamptz not null);
            create index if not exists ix_alerts_at on {Schema}.alerts (at, id);
            create index if not exists ix_alerts_tenant_at on {Schema}.alerts (tenant, at, id);
            commit;
            """);
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// Records a whole consumer batch in one transaction: a receipt per (tenant, id) and each tenant's place in the chain
    /// of batches that touched it (this batch's number and the one before, which its grain uses to tell whether it missed
    /// one) in one round trip, then the new increments added to the totals and settled reservations deleted. The number
    /// counts up per tenant under the row's lock, so it follows the order in which batches of the tenant commit. Returns,
    /// per tenant, exactly the increments never seen before, and what they add to its totals.
    /// </summary>
    public async Task<IReadOnlyList<TenantApplied>> ApplyBatchAsync(IReadOnlyList<(string Tenant, IReadOnlyList<UsageIncrement> Increments)> batch, CancellationToken ct)
    {
        var rows = BatchRows.Of(batch);
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);

        var (fresh, chain) = await TryAllFreshAsync(rows, connection, transaction, ct)
            ?? await RecordReceiptsAsync(rows, connection, transaction, ct);
        var applied = rows.Fresh(fresh);
        var sums = BatchTotals.Of(applied);
        await AddToTotalsAsync(sums.Rows, connection, transaction, ct);

        var settled = applied.Where(r => r.Increment.ReservationId is not null).ToList();
        if (settled.Count > 0)
        {
            await using var settle = new NpgsqlCommand(
                $"delete from {Schema}.reservations where (tenant, id) in (select * from unnest(@tenants, @ids))", connection, transaction);
            settle.Parameters.Add(new NpgsqlParameter("tenants", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = settled.Select(r => r.Tenant).ToArray() });
            settle.Parameters.Add(new NpgsqlParameter("ids", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = settled.Select(r => r.Increment.ReservationId!).ToArray() });
            await settle.ExecuteNonQueryAsync(ct);
        }

        await transaction.CommitAsync(ct);
        return rows.Applied(applied, chain, sums);
    }

    private const string ProgressUpsert = $"""
        insert into {Schema}.tenant_progress (tenant, sequence, previous, updated_at)
        select t.tenant, 1, 0, now() from unnest(@tenants) as t(tenant)
        order by t.tenant
        on conflict (tenant) do update set previous = {Schema}.tenant_progress.sequence, sequence = {Schema}.tenant_progress.sequence + 1,
            updated_at = excluded.updated_at
        returning tenant, sequence, previous
        """;

    /// <summary>
    /// The usual case, a batch of usage never seen: its receipts by a plain insert, in a savepoint, with the chain in the
    /// same round trip. <c>on conflict do nothing returning</c> probes, inserts speculatively and confirms every key, and
    /// sends each one back; the plain insert does neither. When a receipt exists already (a redelivered batch, a re-sent
    /// event, a void that came first) the savepoint is rolled back and null returned, for <see cref="RecordReceiptsAsync"/>.
    /// </summary>
    private static async Task<(IReadOnlySet<Guid> Fresh, Dictionary<string, (long Sequence, long Previous)> Chain)?> TryAllFreshAsync(
        BatchRows rows, NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken ct)
    {
        var chain = new Dictionary<string, (long Sequence, long Previous)>(StringComparer.Ordinal);
        await using var batch = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand("savepoint receipts"),
                // Receipts first: every batch locks receipts, then progress, then totals and reservations.
                new NpgsqlBatchCommand($"insert into {Schema}.usage_receipts (usage_key) select * from unnest($1)")
                    { Parameters = { new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid, Value = rows.Keys } } },
                new NpgsqlBatchCommand(ProgressUpsert.Replace("@tenants", "$1", StringComparison.Ordinal))
                    { Parameters = { new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, Value = rows.Tenants } } },
            },
        };
        try
        {
            await using var reader = await batch.ExecuteReaderAsync(ct);
            do
                while (await reader.ReadAsync(ct)) chain[reader.GetString(0)] = (reader.GetInt64(1), reader.GetInt64(2));
            while (await reader.NextResultAsync(ct));
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation && ex.TableName == "usage_receipts")
        {
            await transaction.RollbackAsync("receipts", ct);
            return null;
        }
        return (rows.Keys.ToHashSet(), chain);
    }

    /// <summary>Receipts that may exist already: each key probed (<c>on conflict do nothing</c>), the new ones sent back.</summary>
    private static async Task<(IReadOnlySet<Guid> Fresh, Dictionary<string, (long Sequence, long Previous)> Chain)> RecordReceiptsAsync(
        BatchRows rows, NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken ct)
    {
        var fresh = new HashSet<Guid>();
        var chain = new Dictionary<string, (long Sequence, long Previous)>(StringComparer.Ordinal);
        await using var receipts = new NpgsqlCommand($"""
            with fresh as (
                insert into {Schema}.usage_receipts (usage_key)
                select * from unnest(@keys)
                on conflict do nothing
                returning usage_key),
            progress as ({ProgressUpsert})
            -- Read in this order, receipts first: every batch locks receipts, then progress, then totals and reservations.
            select usage_key, null, 0, 0 from fresh
            union all
            select null, tenant, sequence, previous from progress
            """, connection, transaction);
        receipts.Parameters.Add(new NpgsqlParameter("keys", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { Value = rows.Keys });
        receipts.Parameters.Add(new NpgsqlParameter("tenants", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = rows.Tenants });
        await using var reader = await receipts.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            if (!reader.IsDBNull(0)) fresh.Add(reader.GetGuid(0));
            else chain[reader.GetString(1)] = (reader.GetInt64(2), reader.GetInt64(3));
        }
        return (fresh, chain);
    }

    /// <summary>Adds totals (negative ones subtract) to the tenants' day and month totals, in one statement.</summary>
    private static async Task AddToTotalsAsync(IReadOnlyList<(string Tenant, PeriodTotal Total)> sums, NpgsqlConnection connection,
        NpgsqlTransaction transaction, CancellationToken ct)
    {
        if (sums.Count == 0) return;
        await using var upsert = new NpgsqlCommand($"""
            insert into {Schema}.period_totals (tenant, meter, period, period_start, used)
            select t, m, p, s, case when scale(u) > {PeriodTotal.Decimals} then round(u, {PeriodTotal.Decimals}) else u end from unnest(@tenants, @meters, @periods, @starts, @used) as i(t, m, p, s, u)
            on conflict (tenant, period, period_start, meter) do update set used = {Schema}.period_totals.used + excluded.used
            """, connection, transaction);
        upsert.Parameters.Add(new NpgsqlParameter("tenants", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = sums.Select(t => t.Tenant).ToArray() });
        upsert.Parameters.Add(new NpgsqlParameter("meters", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = sums.Select(t => t.Total.Meter).ToArray() });
        upsert.Parameters.Add(new NpgsqlParameter("periods", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = sums.Select(t => t.Total.Period).ToArray() });
        upsert.Parameters.Add(new NpgsqlParameter("starts", NpgsqlDbType.Array | NpgsqlDbType.Date) { Value = sums.Select(t => t.Total.Start).ToArray() });
        upsert.Parameters.Add(new NpgsqlParameter("used", NpgsqlDbType.Array | NpgsqlDbType.Numeric) { Value = sums.Select(t => t.Total.Used).ToArray() });
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
            $"insert into {Schema}.usage_receipts (usage_key) values (@key) on conflict do nothing", connection, transaction))
        {
            seen.Parameters.AddWithValue("key", UsageKey.Of(tenant, giveBack.Id));
            counted = await seen.ExecuteNonQueryAsync(ct) == 0;
        }
        if (counted) await AddToTotalsAsync(BatchTotals.Of([(tenant, giveBack)]).Rows, connection, transaction, ct);
        await transaction.CommitAsync(ct);
        return counted;
    }

    /// <summary>The tenant's open reservations; the ones expired by <paramref name="now"/> are deleted instead.</summary>
    public async Task<IReadOnlyList<Reservation>> LoadReservationsAsync(string tenant, DateTimeOffset now, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"""
            with expired as (delete from {Schema}.reservations where tenant = @tenant and expires_at <= @now)
            select id, meter, quantity, expires_at, model, gpu_type from {Schema}.reservations where tenant = @tenant and expires_at > @now
            """);
        command.Parameters.AddWithValue("tenant", tenant);
        command.Parameters.AddWithValue("now", now.UtcDateTime);
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

    /// <summary>Deletes every tenant's reservations that expired by <paramref name="now"/>; returns how many.</summary>
    public async Task<int> DeleteExpiredReservationsAsync(DateTimeOffset now, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"delete from {Schema}.reservations where expires_at <= @now");
        command.Parameters.AddWithValue("now", now.UtcDateTime);
        return await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// True the first time an alert for this limit, period and kind is recorded; false ever after. The first time, the
    /// alert is also stored for <c>GET /v1/alerts</c>, in the same statement, so the list holds exactly the alerts recorded as sent.
    /// </summary>
    public async Task<bool> TryRecordAlertAsync(BudgetAlert alert, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"""
            with sent as (
                insert into {Schema}.alerts_sent (tenant, meter, period, period_start, threshold) values (@tenant, @meter, @period, @start, @kind)
                on conflict do nothing
                returning 1)
            insert into {Schema}.alerts (tenant, kind, meter, period, period_start, limit_value, used, forecast, at)
            select @tenant, @kind, @meter, @period, @start, @limit, @used, @forecast, @at from sent
            """);
        command.Parameters.AddWithValue("tenant", alert.Tenant);
        command.Parameters.AddWithValue("meter", alert.Meter);
        command.Parameters.AddWithValue("period", alert.Period);
        command.Parameters.AddWithValue("start", alert.PeriodStart);
        command.Parameters.AddWithValue("kind", alert.Threshold);
        command.Parameters.AddWithValue("limit", alert.Limit);
        command.Parameters.AddWithValue("used", alert.Used);
        command.Parameters.Add(new NpgsqlParameter("forecast", NpgsqlDbType.Numeric) { Value = (object?)alert.Forecast ?? DBNull.Value });
        command.Parameters.AddWithValue("at", alert.At.UtcDateTime);
        return await command.ExecuteNonQueryAsync(ct) == 1;
    }

    /// <summary>
    /// Forgets that an alert of this limit, period and kind was sent, so the next crossing is sent (and listed) again: a
    /// <c>forecast</c> alert whose forecast fell back under 90 % of the limit. The alerts already listed stay.
    /// </summary>
    public async Task RearmAlertAsync(string tenant, string meter, string period, DateOnly start, string kind, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"""
            delete from {Schema}.alerts_sent where tenant = @tenant and meter = @meter and period = @period and period_start = @start and threshold = @kind
            """);
        command.Parameters.AddWithValue("tenant", tenant);
        command.Parameters.AddWithValue("meter", meter);
        command.Parameters.AddWithValue("period", period);
        command.Parameters.AddWithValue("start", start);
        command.Parameters.AddWithValue("kind", kind);
        await command.ExecuteNonQueryAsync(ct);
    }

    public async Task<string?> LoadStatusAsync(string tenant, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"select status from {Schema}.statuses where tenant = @tenant");
        command.Parameters.AddWithValue("tenant", tenant);
        return await command.ExecuteScalarAsync(ct) as string;
    }

    /// <summary>The tenants whose last broadcast status is <c>warning</c> or <c>throttled</c>.</summary>
    public async Task<IReadOnlyList<string>> TenantsNotOkAsync(CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"select tenant from {Schema}.statuses where status <> @ok");
        command.Parameters.AddWithValue("ok", BudgetStatuses.Ok);
        var tenants = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) tenants.Add(reader.GetString(0));
        return tenants;
    }

    /// <summary>
    /// Whether Budgets has anything of the tenant: a quota, usage (every stored batch numbers its tenants) or a broadcast
    /// status. A tenant it has none of has an empty budget, and needs no grain to say so.
    /// </summary>
    public async Task<bool> IsKnownAsync(string tenant, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"""
            select exists (select 1 from {Schema}.quotas where tenant = @tenant)
                or exists (select 1 from {Schema}.tenant_progress where tenant = @tenant)
                or exists (select 1 from {Schema}.statuses where tenant = @tenant)
            """);
        command.Parameters.AddWithValue("tenant", tenant);
        return (bool)(await command.ExecuteScalarAsync(ct))!;
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
        await using var command = dataSource.CreateCommand($"delete from {Schema}.usage_receipts where recorded_on < @day");
        command.Parameters.AddWithValue("day", day);
        return await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// The tenant's totals of the periods that start on or after <paramref name="since"/>, the day totals of
    /// <paramref name="historyMeters"/> from <paramref name="historyStart"/> on (for their forecasts), and the sequence of
    /// the last batch they include, read in one snapshot; and which of those meters have a <c>forecast</c> alert out for
    /// the month starting on <paramref name="since"/>.
    /// </summary>
    public async Task<TenantUsage> LoadAsync(string tenant, DateOnly since, IReadOnlyList<string> historyMeters, DateOnly historyStart, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);
        var totals = new List<PeriodTotal>();
        await using (var command = new NpgsqlCommand(
            $"""
            select meter, period, period_start, used from {Schema}.period_totals
            where tenant = @tenant and (period_start >= @since or (period = 'day' and period_start >= @history_start and meter = any(@meters)))
            """, connection, transaction))
        {
            command.Parameters.AddWithValue("tenant", tenant);
            command.Parameters.AddWithValue("since", since);
            command.Parameters.AddWithValue("history_start", historyStart);
            command.Parameters.Add(new NpgsqlParameter("meters", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = historyMeters.ToArray() });
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                totals.Add(new(reader.GetString(0), reader.GetString(1), reader.GetFieldValue<DateOnly>(2), reader.GetDecimal(3)));
        }
        long last;
        await using (var sequence = new NpgsqlCommand($"select coalesce((select sequence from {Schema}.tenant_progress where tenant = @tenant), 0)", connection, transaction))
        {
            sequence.Parameters.AddWithValue("tenant", tenant);
            last = (long)(await sequence.ExecuteScalarAsync(ct))!;
        }
        var forecastAlerted = new List<string>();
        if (historyMeters.Count > 0)
        {
            await using var alerted = new NpgsqlCommand($"""
                select meter from {Schema}.alerts_sent
                where tenant = @tenant and period = @period and period_start = @since and threshold = @kind and meter = any(@meters)
                """, connection, transaction);
            alerted.Parameters.AddWithValue("tenant", tenant);
            alerted.Parameters.AddWithValue("period", Periods.Month);
            alerted.Parameters.AddWithValue("since", since);
            alerted.Parameters.AddWithValue("kind", AlertKinds.Forecast);
            alerted.Parameters.Add(new NpgsqlParameter("meters", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = historyMeters.ToArray() });
            await using var reader = await alerted.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) forecastAlerted.Add(reader.GetString(0));
        }
        await transaction.CommitAsync(ct);
        return new TenantUsage(totals, last, forecastAlerted);
    }
}

/// <summary>
/// What a batch counted for one tenant (<see cref="Applied"/>, and summed as its grain takes it in, <see cref="Usage"/>),
/// and where the batch sits in the chain of batches of that tenant.
/// </summary>
public sealed record TenantApplied(string Tenant, IReadOnlyList<UsageIncrement> Applied, AppliedUsage Usage, long Sequence, long Previous);

/// <summary>
/// A tenant's stored totals and the sequence of the last batch they include, and the meters whose month limit has a
/// <c>forecast</c> alert out this month.
/// </summary>
public sealed record TenantUsage(IReadOnlyList<PeriodTotal> Totals, long Sequence, IReadOnlyList<string> ForecastAlerted);
