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

    // Far larger batches than Budgets (whose window bounds how soon usage shows in a budget) once usage arrives fast:
    // most of Billing's work is per tenant-month of a batch (its event, its document, the ledger's and spend's rows
    // of it), so a batch of a second holds each tenant-month once where a 50 ms window's batches (about 190 ms each at
    // 10,000 events/s, each one gathering while the last was stored) held it five times. bench ingest at 10,000
    // events/s: Billing 46-53 -> 37-40 us and PostgreSQL 54-66 -> 46-49 us of CPU per event. A trickle is still
    // recorded within 50 ms, so usage just sent can be voided or seen on its invoice about as soon as in its budget.
    protected override int MaxBatch => 50_000;
    protected override TimeSpan BatchWindow => TimeSpan.FromMilliseconds(50);
    protected override TimeSpan BusyBatchWindow => TimeSpan.FromMilliseconds(1000);
    protected override int BusyBatchEvents => 200;

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
