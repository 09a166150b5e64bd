using System.Diagnostics.Metrics;
using Metering.ServiceDefaults;
using Wolverine;

namespace Metering.Billing.Recording;

/// <summary>
/// Dead-letters usage records that break the v1 rules, counts them, and acknowledges them so that their partition
/// moves on. The record leaves the durable inbox only after the dead-letter topic acknowledged it.
/// </summary>
public static class RejectedUsageHandler
{
    private static readonly Counter<long> DeadLettered = MeteringTelemetry.Meter.CreateCounter<long>(
        "metering.usage.dead_lettered", description: "Usage-topic records that are not valid usage events v1, sent to the dead-letter topic");

    public static async Task Handle(RejectedUsage rejected, Envelope envelope, DeadLetterProducer deadLetters, ILogger<RejectedUsage> logger, CancellationToken ct)
    {
        var origin = $"{envelope.TopicName}/{envelope.PartitionId}/{envelope.Offset}";
        await deadLetters.PublishAsync(rejected, origin, ct);
        DeadLettered.Add(1);
        logger.LogWarning("Dead-lettered the usage record at {Origin} with key {Key}: {Reason}", origin, rejected.Key, rejected.Reason);
    }
}
