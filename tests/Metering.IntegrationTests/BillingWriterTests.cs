using Metering.Billing.Chargeback.Capacity;

namespace Metering.IntegrationTests;

/// <summary>The Billing writer's one locking rule against a real PostgreSQL, in a schema of its own that it removes afterwards.</summary>
public sealed class BillingWriterTests : IAsyncLifetime
{
    private readonly BillingSchema _billing = new("billing_writer_tests");
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    public Task InitializeAsync() => _billing.CreateAsync();

    public async Task DisposeAsync() => await _billing.DisposeAsync();

    private BillingWriter Writer => new(_billing.Store, _billing.Database);

    private static CapacityCostRecorded Capacity(string period, decimal cost) => new(period, "chargeback", [new CapacityItem("h100", 1, cost)], Now, "admin");

    [Fact]
    public async Task A_write_waits_for_the_write_holding_its_lock_and_then_reads_what_that_one_committed()
    {
        var period = "2026-10";
        var first = await Writer.BeginAsync([BillingLock.CapacityCost(period)], CancellationToken.None);
        var second = Writer.BeginAsync([BillingLock.CapacityCost(period)], CancellationToken.None);
        // Another month's lock is not the same lock: that write does not wait.
        await using (var other = await Writer.BeginAsync([BillingLock.CapacityCost("2026-09")], CancellationToken.None)) { }

        Assert.NotSame(second, await Task.WhenAny(second, Task.Delay(TimeSpan.FromSeconds(1))));
        first.Append(CapacityCostRecorded.StreamKey(period), Capacity(period, 10m));
        await first.CommitAsync(CancellationToken.None);
        await first.DisposeAsync();

        await using var write = await second;
        var stored = await write.Session.Events.FetchStreamAsync(CapacityCostRecorded.StreamKey(period));
        Assert.Equal(10m, Assert.IsType<CapacityCostRecorded>(Assert.Single(stored).Data).Items[0].Cost);
    }

    [Fact]
    public async Task Writes_that_name_the_same_locks_in_different_orders_do_not_deadlock()
    {
        var locks = new[] { BillingLock.RateCard, BillingLock.TeamTree, BillingLock.Tenant("acme"), BillingLock.CapacityCost("2026-10") };
        await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
        {
            for (var round = 0; round < 10; round++)
            {
                await using var write = await Writer.BeginAsync(i % 2 == 0 ? locks : locks.Reverse(), CancellationToken.None);
                write.Append(CapacityCostRecorded.StreamKey("2026-10"), Capacity("2026-10", i));
                await write.CommitAsync(CancellationToken.None);
            }
        })));

        await using var query = _billing.Store.QuerySession();
        Assert.Equal(80, (await query.Events.FetchStreamAsync(CapacityCostRecorded.StreamKey("2026-10"))).Count);
    }

    [Fact]
    public async Task A_write_disposed_without_its_commit_leaves_nothing()
    {
        await using (var write = await Writer.BeginAsync([BillingLock.CapacityCost("2026-10")], CancellationToken.None))
            write.Append(CapacityCostRecorded.StreamKey("2026-10"), Capacity("2026-10", 1m));

        await using var query = _billing.Store.QuerySession();
        Assert.Empty(await query.Events.FetchStreamAsync(CapacityCostRecorded.StreamKey("2026-10")));
    }
}
