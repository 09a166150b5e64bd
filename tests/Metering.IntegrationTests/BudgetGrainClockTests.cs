
namespace Metering.IntegrationTests;

/// <summary>
/// A budget grain in a silo of its own whose clock is a fake: at midnight UTC its day limit resets and the grain lifts
/// the throttle by itself, without new usage, and broadcasts it. PostgreSQL and Kafka are the real ones.
/// </summary>
public sealed class BudgetGrainClockTests() : BudgetSiloTests("grain_clock", JustBeforeMidnight)
{
    private static readonly DateTimeOffset JustBeforeMidnight = new(2026, 11, 23, 23, 59, 59, TimeSpan.Zero);
    private readonly string _tenant = TestInfrastructure.UniqueTenant("grain-clock");

    [Fact]
    public async Task The_day_limit_resets_at_midnight_utc_and_the_grain_lifts_the_throttle_by_itself()
    {
        var grain = Silo.Grains.GetGrain<ITenantBudgetGrain>(_tenant);
        await grain.SetQuota([new QuotaLimit(Meters.InputTokens, Periods.Day, 100, 80, Enforcements.Throttle)], "clock-test");
        var store = Silo.Store;
        var stored = Assert.Single(await store.ApplyBatchAsync(
            [(_tenant, [new UsageIncrement("u1", Meters.InputTokens, 100, DateOnly.FromDateTime(JustBeforeMidnight.UtcDateTime))])], CancellationToken.None));
        await grain.Applied(stored.Usage, stored.Sequence, stored.Previous);

        Assert.Equal(BudgetStatuses.Throttled, (await grain.GetBudget()).Status);
        var refused = await grain.Authorize(new AuthorizeRequest(Meters.InputTokens, 1));
        Assert.False(refused.Allowed);
        Assert.Equal((long?)1, refused.RetryAfterSeconds);

        Clock.Advance(TimeSpan.FromSeconds(2));
        // Nothing else happens to the tenant. A read evaluates the limits at the moment of reading; the broadcast below is
        // what only the grain's own wake-up after midnight can publish.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while ((await grain.GetBudget()).Status != BudgetStatuses.Ok && DateTime.UtcNow < deadline) await Task.Delay(50);

        var budget = await grain.GetBudget();
        Assert.Equal(BudgetStatuses.Ok, budget.Status);
        Assert.Equal(0m, budget.Limits.Single().Used);
        Assert.True((await grain.Authorize(new AuthorizeRequest(Meters.InputTokens, 100))).Allowed);
        Assert.Equal(new[] { BudgetStatuses.Throttled, BudgetStatuses.Ok }, BudgetSilo.BroadcastStatuses(_tenant, 2));
    }
}
