using Metering.Budgets.RateCards;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Metering.IntegrationTests;

/// <summary>
/// The followers of side topics — Budgets' rate-card feed and the emitter's throttled set — on a development broker of
/// their own, with records they cannot read produced straight to the topic between good ones.
/// </summary>
public sealed class SideTopicTests : OwnBrokerTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private static byte[] RateCard(int version, string price) => JsonSerializer.SerializeToUtf8Bytes(new RateCardPublished(
        new RateCardVersionView(version, "USD", new DateOnly(2026, 1, 1), [new RateCardPriceView(Meters.InputTokens, "m", null, price)], DateTimeOffset.UtcNow)),
        MeteringJson.Options);

    [Fact]
    public async Task A_rate_card_record_that_cannot_be_read_or_price_usage_is_passed_over_and_the_versions_after_it_arrive()
    {
        await ProduceAsync(KafkaTopics.RateCards.Name,
            (null, RateCard(1, "1.00")),
            (null, "garbage{"u8.ToArray()),
            (null, [0xff, 0xfe, 0x00]),
            (null, RateCard(2, "not-a-price")),
            (null, """{"version":{"version":3,"prices":null}}"""u8.ToArray()),
            (null, null),
            (null, RateCard(4, "3.00")));

        var rateCards = new RateCardVersions();
        // How many versions were there the moment the feed said it had read up to where the topic ended.
        var countWhenCaughtUp = rateCards.CaughtUp.ContinueWith(_ => rateCards.Count, TaskScheduler.Default);
        using var feed = new RateCardFeed(Configuration, rateCards, NullLogger<RateCardFeed>.Instance);
        await feed.StartAsync(CancellationToken.None);
        try
        {
            Assert.Equal(2, await countWhenCaughtUp.WaitAsync(Patience));
            // Version 4 prices usage: 1,000,000 tokens at 3.00.
            Assert.Equal(3.00m, rateCards.CostOf(Meters.InputTokens, "m", null, 1_000_000, new DateOnly(2026, 6, 1)));

            // A good version produced after the bad ones, later on, still arrives.
            await ProduceAsync(KafkaTopics.RateCards.Name, (null, "{"u8.ToArray()), (null, RateCard(5, "5.00")));
            var deadline = DateTime.UtcNow + Patience;
            while (rateCards.Count < 3 && DateTime.UtcNow < deadline) await Task.Delay(50);
            Assert.Equal(5.00m, rateCards.CostOf(Meters.InputTokens, "m", null, 1_000_000, new DateOnly(2026, 6, 1)));
        }
        finally
        {
            await feed.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Budgets_is_not_ready_until_the_rate_cards_are_read_to_where_the_topic_ended_at_start()
    {
        await ProduceAsync(KafkaTopics.RateCards.Name, (null, RateCard(1, "1.00")), (null, RateCard(2, "2.00")));
        var rateCards = new RateCardVersions();
        var health = new RateCardsCaughtUp(rateCards);
        var countWhenCaughtUp = rateCards.CaughtUp.ContinueWith(_ => rateCards.Count, TaskScheduler.Default);

        // The broker is unreachable while Budgets starts: nothing of the topic can be read.
        await Kafka.SendAsync("down");
        using var feed = new RateCardFeed(Configuration, rateCards, NullLogger<RateCardFeed>.Instance);
        await feed.StartAsync(CancellationToken.None);
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(3));
            Assert.False(rateCards.CaughtUp.IsCompleted);
            Assert.Equal(HealthStatus.Unhealthy, (await health.CheckHealthAsync(new HealthCheckContext())).Status);

            await Kafka.SendAsync("up");
            Assert.Equal(2, await countWhenCaughtUp.WaitAsync(Patience));
            Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync(new HealthCheckContext())).Status);
        }
        finally
        {
            await feed.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_budget_status_record_that_cannot_be_read_is_passed_over_and_the_throttled_set_catches_up()
    {
        static byte[] Status(string tenant, string status) =>
            JsonSerializer.SerializeToUtf8Bytes(new BudgetStatusChanged(tenant, status, "limit", DateTimeOffset.UtcNow), MeteringJson.Options);
        var (before, after, stays) = ("throttle-a", "throttle-b", "throttle-c");
        await ProduceAsync(KafkaTopics.BudgetStatus.Name,
            (before, Status(before, BudgetStatuses.Throttled)),
            (after, "garbage{"u8.ToArray()),
            (after, """{"status":42}"""u8.ToArray()),
            (after, [0xff, 0xfe]),
            (null, Status("no-key", BudgetStatuses.Throttled)),
            (after, Status(after, BudgetStatuses.Throttled)),
            (stays, Status(stays, BudgetStatuses.Throttled)),
            (stays, "}"u8.ToArray()));

        await using var throttled = new ThrottledTenants(Kafka.BootstrapServers);
        await throttled.CaughtUp.WaitAsync(Patience);

        Assert.True(throttled.IsThrottled(before));
        Assert.True(throttled.IsThrottled(after));
        // A record that cannot be read leaves the tenant as it was.
        Assert.True(throttled.IsThrottled(stays));
        Assert.Equal([before, after, stays], throttled.Throttled.Select(t => t.Tenant).Order(StringComparer.Ordinal));
    }
}
