using Metering.Budgets.Broadcast;

namespace Metering.IntegrationTests;

/// <summary>
/// A tenant throttled by a day limit while no silo holds its grain (Budgets was down, or the grain is not active) is
/// lifted when its day ends without anyone calling that tenant: the status topic and an emitter's <c>IsThrottled</c>
/// show <c>ok</c>. The silo's clock is a fake; PostgreSQL and Kafka are the real ones.
/// </summary>
public sealed class BudgetRestartTests() : BudgetDatabaseTests("budget_restart")
{
    private static readonly DateOnly Day = new(2026, 11, 23);
    private static readonly DateTimeOffset Midnight = new(2026, 11, 24, 0, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    /// <summary>
    /// What a silo that went away left behind for a tenant that reached its day limit just before midnight: the quota,
    /// the usage, the stored status, and the throttle on the status topic.
    /// </summary>
    private async Task LeaveThrottledAsync(string tenant)
    {
        var store = new BudgetStore(DataSource);
        var at = Midnight.AddSeconds(-30);
        await new QuotaStore(DataSource).SaveAsync(tenant, [], [new QuotaLimit(Meters.InputTokens, Periods.Day, 100, 80, Enforcements.Throttle)], "restart-test", at,
            CancellationToken.None);
        await store.ApplyBatchAsync([(tenant, [new UsageIncrement("u1", Meters.InputTokens, 100, Day)])], CancellationToken.None);
        await store.SaveStatusAsync(tenant, BudgetStatuses.Throttled, at, CancellationToken.None);
        using var broadcast = new BudgetBroadcast(new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["KAFKA_BOOTSTRAP_SERVERS"] = TestInfrastructure.KafkaBootstrapServers }).Build());
        await broadcast.PublishAsync(new BudgetStatusChanged(tenant, BudgetStatuses.Throttled, "input_tokens day limit 100 reached: used 100", at), CancellationToken.None);
    }

    private static async Task<UsageEmitter> EmitterSeeingThrottledAsync(string tenant)
    {
        var emitter = new UsageEmitter(new UsageEmitterOptions { BootstrapServers = TestInfrastructure.KafkaBootstrapServers });
        await emitter.ThrottlesCaughtUp.WaitAsync(Patience);
        await WaitUntil(() => Task.FromResult(emitter.IsThrottled(tenant)));
        return emitter;
    }

    private static async Task WaitUntil(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition never held");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task A_tenant_throttled_when_Budgets_went_down_is_lifted_at_start_up_when_its_day_ended_meanwhile()
    {
        var tenant = TestInfrastructure.UniqueTenant("restart-startup");
        await LeaveThrottledAsync(tenant);
        await using var emitter = await EmitterSeeingThrottledAsync(tenant);

        // Budgets comes back a few seconds after midnight; nobody asks about the tenant.
        await using var silo = await BudgetSilo.StartAsync(Database, new FakeTimeProvider(Midnight.AddSeconds(5)));

        await WaitUntil(() => Task.FromResult(!emitter.IsThrottled(tenant)));
        Assert.Equal(BudgetStatuses.Ok, await silo.Store.LoadStatusAsync(tenant, CancellationToken.None));
        Assert.Equal([BudgetStatuses.Throttled, BudgetStatuses.Ok], BudgetSilo.BroadcastStatuses(tenant, 2));
    }

    [Fact]
    public async Task A_throttled_tenant_whose_grain_is_not_active_is_lifted_right_after_midnight()
    {
        // A tenant stored as throttled without limits comes out ok as soon as the start-up sweep wakes it: once it has,
        // the sweep has read the statuses, and what is stored after it is only found at the next boundary.
        var sentinel = TestInfrastructure.UniqueTenant("restart-sentinel");
        await new BudgetStore(DataSource).SaveStatusAsync(sentinel, BudgetStatuses.Throttled, Midnight.AddMinutes(-1), CancellationToken.None);
        var clock = new FakeTimeProvider(Midnight.AddSeconds(-10));
        await using var silo = await BudgetSilo.StartAsync(Database, clock);
        await WaitUntil(async () => await silo.Store.LoadStatusAsync(sentinel, CancellationToken.None) == BudgetStatuses.Ok);
        // Let the sweep go back to waiting for midnight before the clock moves.
        await Task.Delay(TimeSpan.FromSeconds(2));

        // Another silo held the tenant when it reached its limit and went away; this silo never activated its grain.
        var tenant = TestInfrastructure.UniqueTenant("restart-boundary");
        await LeaveThrottledAsync(tenant);
        await using var emitter = await EmitterSeeingThrottledAsync(tenant);
        clock.Advance(TimeSpan.FromSeconds(12));

        await WaitUntil(() => Task.FromResult(!emitter.IsThrottled(tenant)));
        Assert.Equal(BudgetStatuses.Ok, await silo.Store.LoadStatusAsync(tenant, CancellationToken.None));
        Assert.Equal([BudgetStatuses.Throttled, BudgetStatuses.Ok], BudgetSilo.BroadcastStatuses(tenant, 2));
    }
}
