using System.Diagnostics;
using Metering.UsageTopic;

namespace Metering.Billing.Usage;

/// <summary>
/// Consumes the usage topic in the <c>metering-billing</c> group. Each batch is recorded in one transaction; only then
/// are its offsets committed. A crash in between redelivers the batch: receipts keep the usage from counting twice.
/// Records that are not valid usage events, and any the recorder refuses, go to the dead-letter topic (see
/// <see cref="UsageTopicConsumer"/>), which <see cref="DeadLetterLedger"/> counts.
/// </summary>
public sealed class UsageConsumer(IConfiguration configuration, UsageRecorder recorder, DeadLetterProducer deadLetters, TimeProvider clock,
    ILogger<UsageConsumer> logger) : UsageTopicConsumer(configuration, deadLetters, clock, logger)
{
    protected override string GroupId { get; } = configuration["METERING_BILLING_GROUP_ID"] ?? "metering-billing";

    // Larger batches than Budgets: the cost of a PostgreSQL transaction is spread over more events.
    protected override int MaxBatch => 10_000;
    protected override TimeSpan BatchWindow => TimeSpan.FromMilliseconds(50);

    protected override async Task HandleAsync(IReadOnlyList<UsageRecord> usage, CancellationToken ct)
    {
        var activities = usage
            .Select(r => MeteringTelemetry.Source.StartActivity("usage record billing", ActivityKind.Consumer, r.Parent)?.SetTag("metering.tenant", r.Usage.Tenant))
            .OfType<Activity>()
            .ToList();
        try
        {
            await recorder.RecordAsync(usage.Select(r => r.Usage).ToList(), ct);
        }
        finally
        {
            foreach (var activity in activities) activity.Dispose();
        }
    }

    // Two writers of one stream (which the tenant locks rule out) would surface as a unique violation: not the record's fault.
    protected override bool IsTiedToRecord(Exception exception) =>
        exception is not (JasperFx.ConcurrencyException or JasperFx.Events.EventStreamUnexpectedMaxEventIdException
            or Marten.Exceptions.ExistingStreamIdCollisionException) && base.IsTiedToRecord(exception);
}
