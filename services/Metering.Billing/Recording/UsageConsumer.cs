using System.Diagnostics;
using System.Diagnostics.Metrics;
using Metering.ServiceDefaults;
using Metering.UsageTopic;

namespace Metering.Billing.Recording;

/// <summary>
/// Consumes the usage topic in the <c>metering-billing</c> group. Records that break the v1 rules are published to
/// the dead-letter topic first; then the batch is recorded in one transaction; only then are its offsets committed. A
/// crash in between redelivers the batch: receipts keep the usage from counting twice, and a dead letter may be
/// published again with the same origin header (Kafka offers no atomic produce-and-commit to PostgreSQL).
/// </summary>
public sealed class UsageConsumer(IConfiguration configuration, UsageRecorder recorder, DeadLetterProducer deadLetters, TimeProvider clock,
    ILogger<UsageConsumer> logger) : UsageTopicConsumer(configuration, clock, logger)
{
    private static readonly Counter<long> DeadLettered = MeteringTelemetry.Meter.CreateCounter<long>(
        "metering.usage.dead_lettered", description: "Usage-topic records that are not valid usage events v1, sent to the dead-letter topic");

    protected override string GroupId { get; } = configuration["METERING_BILLING_GROUP_ID"] ?? "metering-billing";

    // Larger batches than Budgets: the cost of a PostgreSQL transaction is spread over more events.
    protected override int MaxBatch => 10_000;
    protected override TimeSpan BatchWindow => TimeSpan.FromMilliseconds(50);

    protected override async Task HandleAsync(UsageBatch batch, CancellationToken ct)
    {
        foreach (var rejected in batch.Rejected)
        {
            await deadLetters.PublishAsync(rejected, ct);
            DeadLettered.Add(1);
            logger.LogWarning("Dead-lettered the usage record at {Origin} with key {Key}: {Reason}", rejected.Origin, rejected.Key, rejected.Reason);
        }

        var activities = batch.Usage
            .Select(r => MeteringTelemetry.Source.StartActivity("usage record billing", ActivityKind.Consumer, r.Parent)?.SetTag("metering.tenant", r.Usage.Tenant))
            .OfType<Activity>()
            .ToList();
        try
        {
            await recorder.RecordAsync(batch.Usage.Select(r => r.Usage).ToList(), batch.Rejected, ct);
        }
        finally
        {
            foreach (var activity in activities) activity.Dispose();
        }
    }
}
