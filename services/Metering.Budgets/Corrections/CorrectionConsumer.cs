using System.Text.Json;
using Metering.Contracts;
using Metering.Contracts.Billing;
using Metering.Kafka;
using Metering.UsageTopic;

namespace Metering.Budgets.Corrections;

/// <summary>
/// Gives voided usage back: follows <c>metering.usage-corrections.v1</c> in the <c>metering-budgets-corrections</c>
/// group and hands each <see cref="UsageVoided"/> to its tenant's grain, committing offsets only afterwards. The grain
/// recognises a void it has applied before, so redelivery is harmless. A record it cannot read, that breaks the usage
/// rules, or that the store refuses for a reason tied to its data is logged, counted and passed over; any other failure
/// (PostgreSQL or the silo unreachable) resumes from the last committed offset.
/// </summary>
public sealed class CorrectionConsumer(IConfiguration configuration, TenantBudgetGrains grains, ILogger<CorrectionConsumer> logger)
    : SideTopicService(configuration, logger)
{
    protected override string Topic => KafkaTopics.UsageCorrections.Name;
    protected override string GroupId { get; } = (configuration["METERING_BUDGETS_GROUP_ID"] ?? "metering-budgets") + "-corrections";
    protected override string RecordName => "usage correction";

    public override async Task HandleAsync(SideTopicBatch batch, CancellationToken ct)
    {
        foreach (var record in batch.Records)
        {
            var (voided, problem) = Read(record.Message.Value);
            if (voided is null)
            {
                batch.Skip(record, problem!);
                continue;
            }
            try
            {
                var given = await grains.Of(voided.Tenant).VoidUsage(voided);
                logger.LogInformation("Usage {Id} of {Tenant} voided: {Outcome}", voided.UsageId, voided.Tenant, given ? "given back" : "not counted here");
            }
            catch (Exception ex) when (RecordFaults.IsTiedToRecord(ex))
            {
                batch.Skip(record, RecordFaults.Describe(ex));
            }
        }
    }

    /// <summary>
    /// The void, or why it cannot be applied: what it gives back is judged by the usage rules (tenant, id, meter, quantity,
    /// model and GPU type), since it reaches the same store as the usage it voids.
    /// </summary>
    internal static (UsageVoided? Voided, string? Problem) Read(byte[]? value)
    {
        UsageVoided? voided;
        try
        {
            voided = value is null ? null : JsonSerializer.Deserialize<UsageVoided>(value, MeteringJson.Options);
        }
        catch (Exception ex)
        {
            // Reading is a pure function of the bytes: whatever they make it throw sets the record apart, not the consumer.
            return (null, $"it is not a usage void: {ex.Message}");
        }
        if (voided is null) return (null, "it holds no usage void");
        var at = voided.Day.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
        var errors = UsageEventRules.Validate(new UsageEvent(voided.UsageId, voided.Tenant, voided.Meter, voided.Quantity, at, voided.Model, voided.GpuType), at);
        return errors.Count == 0 ? (voided, null) : (null, "it breaks the usage rules: " + FieldError.Describe(errors));
    }
}
