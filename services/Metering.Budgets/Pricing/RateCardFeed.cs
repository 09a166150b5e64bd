using System.Globalization;
using System.Text.Json;
using Confluent.Kafka;
using Metering.Contracts;
using Metering.Contracts.Billing;
using Metering.Contracts.Usage;
using Metering.ServiceDefaults;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Metering.Budgets.Pricing;

/// <summary>
/// Follows <c>metering.rate-cards.v1</c> from its beginning (no consumer group: every instance needs every version).
/// At start it notes the topic's end (high watermark) and marks <see cref="RateCards.CaughtUp"/> once it has read up to
/// there. A record it cannot read or that cannot price usage is logged, counted and passed over: the versions after it
/// still arrive.
/// </summary>
public sealed class RateCardFeed(IConfiguration configuration, RateCards rateCards, ILogger<RateCardFeed> logger) : BackgroundService
{
    private static readonly TopicPartition Partition = new(KafkaTopics.RateCards.Name, 0);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Follow(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Follow(CancellationToken stop)
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = MeteringSettings.KafkaBootstrapServers(configuration),
            GroupId = "metering-budgets-rate-cards", // required by the client; never joined
            EnableAutoCommit = false,
            EnablePartitionEof = true,
        };
        while (!stop.IsCancellationRequested)
        {
            try
            {
                using var consumer = new ConsumerBuilder<Ignore, byte[]?>(config).Build();
                // The end to reach before usage may be priced: where the topic ended when Budgets (re)connected.
                var end = Offset.Unset;
                if (!rateCards.CaughtUp.IsCompleted)
                {
                    var marks = consumer.QueryWatermarkOffsets(Partition, TimeSpan.FromSeconds(10));
                    end = marks.High;
                    if (marks.Low >= marks.High) CatchUp(end);
                }
                consumer.Assign(new TopicPartitionOffset(Partition, Offset.Beginning));
                while (!stop.IsCancellationRequested)
                {
                    if (consumer.Consume(TimeSpan.FromMilliseconds(500)) is not { } record) continue;
                    if (!record.IsPartitionEOF) Apply(record);
                    if (end != Offset.Unset && record.Offset.Value + (record.IsPartitionEOF ? 0 : 1) >= end.Value) CatchUp(end);
                }
            }
            catch (Exception ex) when (!stop.IsCancellationRequested)
            {
                logger.LogWarning(ex, "Following the rate cards failed; retrying");
                stop.WaitHandle.WaitOne(TimeSpan.FromSeconds(1));
            }
            catch (Exception)
            {
                return;
            }
        }
    }

    private void CatchUp(Offset end)
    {
        if (rateCards.CaughtUp.IsCompleted) return;
        rateCards.MarkCaughtUp();
        logger.LogInformation("Rate cards read up to offset {End}: {Count} versions; usage may be priced", end.Value, rateCards.Count);
    }

    private void Apply(ConsumeResult<Ignore, byte[]?> record)
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
            MeteringTelemetry.SideTopicRecordSkipped(KafkaTopics.RateCards.Name);
            logger.LogWarning("Skipped the rate-card record at {Origin}: {Problem}", record.TopicPartitionOffset, problem);
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
public sealed class RateCardsCaughtUp(RateCards rateCards) : IHealthCheck
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
        services.AddSingleton<RateCards>();
        services.AddHostedService<RateCardFeed>();
        services.AddHealthChecks().AddCheck<RateCardsCaughtUp>("rate-cards", tags: [MeteringDefaults.ReadyTag]);
        return services;
    }
}
