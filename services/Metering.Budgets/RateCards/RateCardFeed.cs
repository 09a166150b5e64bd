using System.Globalization;
using System.Text.Json;
using Confluent.Kafka;
using Metering.Contracts;
using Metering.Contracts.Billing;
using Metering.Kafka;
using Metering.UsageTopic;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Metering.Budgets.RateCards;

/// <summary>
/// Follows <c>metering.rate-cards.v1</c> from its beginning (no consumer group: every instance needs every version).
/// At start the follower notes the topic's end (high watermark) and the feed marks <see cref="RateCardVersions.CaughtUp"/> once
/// it has read up to there. A record it cannot read or that cannot price usage is logged, counted and passed over: the
/// versions after it still arrive.
/// </summary>
public sealed class RateCardFeed(IConfiguration configuration, RateCardVersions rateCards, ILogger<RateCardFeed> logger) : SideTopicService(configuration, logger)
{
    protected override string Topic => KafkaTopics.RateCards.Name;
    protected override string GroupId => "metering-budgets-rate-cards"; // required by the client; never joined
    protected override SideTopicStart Start => SideTopicStart.Beginning;
    protected override string RecordName => "rate-card record";

    public override void OnCaughtUp()
    {
        rateCards.MarkCaughtUp();
        logger.LogInformation("Rate cards read up to where {Topic} ended: {Count} versions; usage may be priced", Topic, rateCards.Count);
    }

    public override Task HandleAsync(SideTopicBatch batch, CancellationToken ct)
    {
        foreach (var record in batch.Records) Apply(batch, record);
        return Task.CompletedTask;
    }

    private void Apply(SideTopicBatch batch, ConsumeResult<byte[]?, byte[]?> record)
    {
        string? problem;
        RateCardVersionView? version = null;
        try
        {
            version = record.Message.Value is { } value ? JsonSerializer.Deserialize<RateCardPublished>(value, MeteringJson.Options)?.Version : null;
            problem = version is null ? "it holds no rate-card version" : CannotPrice(version);
        }
        catch (Exception ex)
        {
            // Reading is a pure function of the bytes: whatever they make it throw sets the record apart, not the feed.
            problem = $"it is not a rate-card message: {ex.Message}";
        }
        if (problem is not null)
        {
            batch.Skip(record, problem);
            return;
        }
        rateCards.Add(version!);
        logger.LogInformation("Rate card version {Version} effective from {EffectiveFrom} received", version!.Version, version.EffectiveFrom);
    }

    /// <summary>Why a version could not price usage (a price that does not parse would fail every batch it prices), or null.</summary>
    private static string? CannotPrice(RateCardVersionView version)
    {
        if (version.Prices is null) return "the version has no prices";
        foreach (var price in version.Prices)
        {
            if (price?.Meter is null || !Meters.IsKnown(price.Meter)) return $"a price names no known meter ({price?.Meter})";
            if (!decimal.TryParse(price.Price, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount) || amount > MaxPrice)
                return $"the price of {price.Meter} is not a decimal between 0 and {MaxPrice}";
        }
        return null;
    }

    /// <summary>Billing's bound on prices, which keeps quantity (≤ 1e12) × price within a decimal.</summary>
    private const decimal MaxPrice = 1_000_000m;
}

/// <summary>Ready only once the rate cards are read to where the topic ended at start.</summary>
public sealed class RateCardsCaughtUp(RateCardVersions rateCards) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(rateCards.CaughtUp.IsCompleted
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy($"the rate cards are not read to the end of {KafkaTopics.RateCards.Name} yet"));
}

public static class RateCardFeedRegistration
{
    /// <summary>The rate cards in memory, the feed that fills them, and the readiness check that waits for it.</summary>
    public static IServiceCollection AddRateCardFeed(this IServiceCollection services)
    {
        services.AddSingleton<RateCardVersions>();
        services.AddHostedService<RateCardFeed>();
        services.AddHealthChecks().AddCheck<RateCardsCaughtUp>("rate-cards", tags: [MeteringDefaults.ReadyTag]);
        return services;
    }
}
