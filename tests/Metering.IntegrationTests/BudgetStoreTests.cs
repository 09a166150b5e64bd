using Metering.Budgets.Tracking;
using Metering.Contracts.Usage;
using Npgsql;

namespace Metering.IntegrationTests;

public sealed class BudgetStoreTests : IAsyncLifetime
{
    private static readonly DateOnly Today = DateOnly.FromDateTime(DateTime.UtcNow);
    private readonly NpgsqlDataSource _dataSource = NpgsqlDataSource.Create(TestInfrastructure.Postgres);
    private readonly string _tenant = TestInfrastructure.UniqueTenant("budget-store");
    private BudgetStore Store => new(_dataSource);

    public Task InitializeAsync() => Store.MigrateAsync(CancellationToken.None);

    public async Task DisposeAsync()
    {
        await using var command = _dataSource.CreateCommand(
            $"delete from {BudgetStore.Schema}.usage_seen where tenant = @tenant; delete from {BudgetStore.Schema}.period_totals where tenant = @tenant");
        command.Parameters.AddWithValue("tenant", _tenant);
        await command.ExecuteNonQueryAsync();
        await _dataSource.DisposeAsync();
    }

    private static UsageIncrement Increment(string id, decimal quantity, string meter = Meters.InputTokens) => new(id, meter, quantity, Today);

    private async Task<decimal> Used(string meter, string period) =>
        (await Store.LoadAsync(_tenant, Today.AddDays(-Today.Day + 1), CancellationToken.None))
        .Where(t => t.Meter == meter && t.Period == period).Sum(t => t.Used);

    [Fact]
    public async Task Applying_the_same_batch_twice_counts_it_once()
    {
        var batch = new[] { Increment("a", 100), Increment("b", 23), Increment("c", 0.5m, Meters.GpuSeconds) };

        Assert.Equal(3, (await Store.ApplyAsync(_tenant, batch, CancellationToken.None)).Count);
        Assert.Empty(await Store.ApplyAsync(_tenant, batch, CancellationToken.None));

        Assert.Equal(123, await Used(Meters.InputTokens, "day"));
        Assert.Equal(123, await Used(Meters.InputTokens, "month"));
        Assert.Equal(0.5m, await Used(Meters.GpuSeconds, "month"));
    }

    [Fact]
    public async Task A_batch_overlapping_an_earlier_one_counts_only_the_new_events()
    {
        await Store.ApplyAsync(_tenant, [Increment("a", 100), Increment("b", 10)], CancellationToken.None);
        var applied = await Store.ApplyAsync(_tenant, [Increment("b", 10), Increment("c", 1), Increment("c", 1)], CancellationToken.None);

        Assert.Equal(["c"], applied.Select(i => i.Id));
        Assert.Equal(111, await Used(Meters.InputTokens, "day"));
    }

    [Fact]
    public async Task Concurrent_deliveries_of_the_same_events_count_them_once()
    {
        var batch = Enumerable.Range(0, 200).Select(i => Increment($"e{i}", i)).ToArray();

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => Store.ApplyAsync(_tenant, batch, CancellationToken.None))));

        Assert.Equal(200, results.Sum(r => r.Count));
        Assert.Equal(Enumerable.Range(0, 200).Sum(), await Used(Meters.InputTokens, "month"));
    }
}
