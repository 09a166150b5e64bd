using Metering.Budgets.RateCards;

namespace Metering.IntegrationTests;

public sealed class BudgetStoreTests : IAsyncLifetime
{
    private static readonly DateOnly Today = DateOnly.FromDateTime(DateTime.UtcNow);
    private static readonly DateOnly MonthStart = Today.AddDays(-Today.Day + 1);
    private readonly NpgsqlDataSource _dataSource = NpgsqlDataSource.Create(TestInfrastructure.Postgres);
    private readonly string _tenant = TestInfrastructure.UniqueTenant("budget-store");
    private readonly string _other = TestInfrastructure.UniqueTenant("budget-store");
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _ids = new();
    private BudgetStore Store => new(_dataSource);

    public Task InitializeAsync() => Store.MigrateAsync(CancellationToken.None);

    public async Task DisposeAsync()
    {
        await using var command = _dataSource.CreateCommand(
            $"delete from {BudgetStore.Schema}.usage_receipts where usage_key = any(@keys); delete from {BudgetStore.Schema}.period_totals where tenant = any(@tenants); " +
            $"delete from {BudgetStore.Schema}.tenant_progress where tenant = any(@tenants)");
        command.Parameters.AddWithValue("tenants", new[] { _tenant, _other });
        command.Parameters.AddWithValue("keys", new[] { _tenant, _other }.SelectMany(t => _ids.Keys.Select(id => UsageKey.Of(t, id))).ToArray());
        await command.ExecuteNonQueryAsync();
        await _dataSource.DisposeAsync();
    }

    private UsageIncrement Increment(string id, decimal quantity, string meter = Meters.InputTokens)
    {
        _ids.TryAdd(id, 0);
        return new(id, meter, quantity, Today);
    }

    private async Task<decimal> Used(string meter, string period, string? tenant = null) =>
        (await Store.LoadAsync(tenant ?? _tenant, MonthStart, [], MonthStart, CancellationToken.None)).Totals
        .Where(t => t.Meter == meter && t.Period == period).Sum(t => t.Used);

    private async Task<TenantApplied> Apply(params UsageIncrement[] increments) =>
        Assert.Single(await Store.ApplyBatchAsync([(_tenant, increments)], CancellationToken.None));

    [Fact]
    public async Task Usage_seen_is_dated_by_the_utc_day_whatever_the_session_time_zone()
    {
        // A database of its own: the schema as a fresh migration, in that time zone, creates it.
        await using var database = await TestInfrastructure.CreateDatabaseAsync("budgets_utc");
        await using var farAway = NpgsqlDataSource.Create(TestInfrastructure.FarFromUtc(database.ConnectionString));
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        Assert.NotEqual(today, await TestInfrastructure.SessionDateAsync(farAway));
        await new BudgetStore(farAway).MigrateAsync(CancellationToken.None);

        Assert.Single((await new BudgetStore(farAway).ApplyBatchAsync([(_tenant, [Increment("far", 1)])], CancellationToken.None)).Single().Applied);

        await using var command = farAway.CreateCommand($"select recorded_on from {BudgetStore.Schema}.usage_receipts where usage_key = @key");
        command.Parameters.AddWithValue("key", UsageKey.Of(_tenant, "far"));
        Assert.Equal(today, (DateOnly)(await command.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task Migrate_turns_receipts_keyed_by_tenant_and_id_into_usage_keys_and_what_they_counted_still_counts_once()
    {
        await using var database = await TestInfrastructure.CreateDatabaseAsync("budgets_receipts");
        await using var old = NpgsqlDataSource.Create(database.ConnectionString);
        var written = Today.AddDays(-3);
        // The receipts as the release before usage keys kept them, one written three days ago (an id that is not ASCII).
        await using (var create = old.CreateCommand($"""
            create schema {BudgetStore.Schema};
            create table {BudgetStore.Schema}.usage_seen (tenant text not null, id text not null, day date not null,
                recorded_on date not null default current_date, primary key (tenant, id));
            insert into {BudgetStore.Schema}.usage_seen (tenant, id, day, recorded_on) values (@tenant, 'counted-ü', @today, @written);
            """))
        {
            create.Parameters.AddWithValue("tenant", _tenant);
            create.Parameters.AddWithValue("today", Today);
            create.Parameters.AddWithValue("written", written);
            await create.ExecuteNonQueryAsync();
        }
        var store = new BudgetStore(old);
        await store.MigrateAsync(CancellationToken.None);
        await store.MigrateAsync(CancellationToken.None);

        var applied = Assert.Single(await store.ApplyBatchAsync([(_tenant, [Increment("counted-ü", 5), Increment("new", 7)])], CancellationToken.None));

        Assert.Equal(["new"], applied.Applied.Select(i => i.Id));
        await using var check = old.CreateCommand(
            $"select (select recorded_on from {BudgetStore.Schema}.usage_receipts where usage_key = @key), to_regclass('{BudgetStore.Schema}.usage_seen') is null");
        check.Parameters.AddWithValue("key", UsageKey.Of(_tenant, "counted-ü"));
        await using var reader = await check.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal((written, true), (reader.GetFieldValue<DateOnly>(0), reader.GetBoolean(1)));
    }

    [Fact]
    public async Task Applying_the_same_batch_twice_counts_it_once()
    {
        var batch = new[] { Increment("a", 100), Increment("b", 23), Increment("c", 0.5m, Meters.GpuSeconds) };

        Assert.Equal(3, (await Apply(batch)).Applied.Count);
        Assert.Empty((await Apply(batch)).Applied);

        Assert.Equal(123, await Used(Meters.InputTokens, "day"));
        Assert.Equal(123, await Used(Meters.InputTokens, "month"));
        Assert.Equal(0.5m, await Used(Meters.GpuSeconds, "month"));
    }

    [Fact]
    public async Task A_batch_overlapping_an_earlier_one_counts_only_the_new_events()
    {
        await Apply(Increment("a", 100), Increment("b", 10));
        var applied = await Apply(Increment("b", 10), Increment("c", 1), Increment("c", 1));

        Assert.Equal(["c"], applied.Applied.Select(i => i.Id));
        // What the grain takes in: the new event's totals only.
        Assert.Equal([new PeriodTotal(Meters.InputTokens, Periods.Day, Today, 1), new PeriodTotal(Meters.InputTokens, Periods.Month, MonthStart, 1)], applied.Usage.Totals);
        Assert.Equal(111, await Used(Meters.InputTokens, "day"));
    }

    [Fact]
    public async Task Concurrent_deliveries_of_the_same_events_count_them_once()
    {
        var batch = Enumerable.Range(0, 200).Select(i => Increment($"e{i}", i)).ToArray();

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => Apply(batch))));

        Assert.Equal(200, results.Sum(r => r.Applied.Count));
        Assert.Equal(Enumerable.Range(0, 200).Sum(), await Used(Meters.InputTokens, "month"));
        // Eight batches, each one link of the tenant's chain.
        Assert.Equal(results.Select(r => r.Previous).Order().Skip(1), results.Select(r => r.Sequence).Order().SkipLast(1));
    }

    [Fact]
    public async Task One_batch_stores_every_tenant_and_links_each_tenant_to_its_previous_batch()
    {
        var first = await Store.ApplyBatchAsync([(_tenant, [Increment("a", 5)]), (_other, [Increment("a", 7), Increment("b", 1)])], CancellationToken.None);
        var second = await Store.ApplyBatchAsync([(_other, [Increment("b", 1), Increment("c", 2)])], CancellationToken.None);

        Assert.Equal([0L, 0L], first.Select(t => t.Previous));
        Assert.Equal(first.Single(t => t.Tenant == _other).Sequence, Assert.Single(second).Previous);
        Assert.Equal(["c"], second[0].Applied.Select(i => i.Id));
        Assert.Equal((5m, 10m), (await Used(Meters.InputTokens, "day"), await Used(Meters.InputTokens, "day", _other)));
        var stored = await Store.LoadAsync(_other, MonthStart, [], MonthStart, CancellationToken.None);
        Assert.Equal(second[0].Sequence, stored.Sequence);
    }

    [Fact]
    public async Task Loading_with_history_adds_the_day_totals_of_the_named_meters_from_its_first_day_and_nothing_else()
    {
        var old = MonthStart.AddDays(-40);
        await Apply(Increment("current", 1), new UsageIncrement("old", Meters.InputTokens, 2, old), new UsageIncrement("older", Meters.InputTokens, 4, old.AddDays(-1)),
            new UsageIncrement("gpu", Meters.GpuSeconds, 8, old));

        var loaded = await Store.LoadAsync(_tenant, MonthStart, [Meters.InputTokens], old, CancellationToken.None);

        Assert.Equal(
            [(Meters.InputTokens, "day", old, 2m), (Meters.InputTokens, "day", Today, 1m), (Meters.InputTokens, "month", MonthStart, 1m)],
            loaded.Totals.Select(t => (t.Meter, t.Period, t.Start, t.Used)).Order());
    }

    [Fact]
    public async Task Costs_priced_at_full_precision_add_up_to_totals_that_still_read_back()
    {
        // A GPU-hour at 1.00 is 1/3,600 USD a GPU-second: 28 decimals, whose exact sum soon outgrows a .NET decimal.
        var rateCards = new RateCardVersions();
        rateCards.Add(new RateCardVersionView(1, "USD", new DateOnly(2020, 1, 1), [new RateCardPriceView(Meters.GpuSeconds, null, "h100", "1.00")], DateTimeOffset.UnixEpoch));
        var exact = 1_234.5m * 1.00m / 3_600m;
        Assert.Equal(0.3429166666666667m, rateCards.CostOf(Meters.GpuSeconds, null, "h100", 1_234.5m, Today));

        // The store keeps a total's decimals whatever an increment carries.
        for (var i = 0; i < 40; i++)
            await Apply(new UsageIncrement($"gpu-{i}", Meters.GpuSeconds, 1_234.5m, Today, GpuType: "h100", Cost: exact));

        Assert.Equal(40 * 0.3429166666666667m, await Used(CostMeter.CostUsd, "month"));
    }

    [Fact]
    public async Task Migrating_rounds_totals_stored_at_more_decimals_than_a_decimal_reads()
    {
        await Apply(Increment("a", 1));
        await using (var command = _dataSource.CreateCommand(
            $"update {BudgetStore.Schema}.period_totals set used = 93.3710072813888888888888888803 where tenant = @tenant and period = 'month'"))
        {
            command.Parameters.AddWithValue("tenant", _tenant);
            Assert.Equal(1, await command.ExecuteNonQueryAsync());
        }
        await Assert.ThrowsAsync<OverflowException>(() => Used(Meters.InputTokens, "month"));

        await Store.MigrateAsync(CancellationToken.None);

        Assert.Equal(93.3710072813888889m, await Used(Meters.InputTokens, "month"));
        Assert.Equal(1m, await Used(Meters.InputTokens, "day"));
    }
}
