using System.Text.Json;
using Confluent.Kafka;
using Metering.Budgets.Tracking;
using Metering.Contracts;
using Metering.Contracts.Billing;
using Metering.Contracts.Usage;
using Metering.ServiceDefaults;
using Metering.UsageTopic;

namespace Metering.Budgets.Corrections;

/// <summary>
/// Gives voided usage back: follows <c>metering.usage-corrections.v1</c> in the <c>metering-budgets-corrections</c>
/// group and hands each <see cref="UsageVoided"/> to its tenant's grain, committing offsets only afterwards. The grain
/// recognises a void it has applied before, so redelivery is harmless. A record it cannot read, that breaks the usage
/// rules, or that the store refuses for a reason tied to its data is logged, counted and passed over; any other failure
/// (PostgreSQL or the silo unreachable) resumes from the last committed offset.
/// </summary>
public sealed class CorrectionConsumer(IConfiguration configuration, IGrainFactory grains, ILogger<CorrectionConsumer> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Run(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Run(CancellationToken stop)
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = MeteringSettings.KafkaBootstrapServers(configuration),
            GroupId = (configuration["METERING_BUDGETS_GROUP_ID"] ?? "metering-budgets") + "-corrections",
            EnableAutoCommit = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            SessionTimeoutMs = 10_000,
        };
        while (!stop.IsCancellationRequested)
        {
            try
            {
                using var consumer = new ConsumerBuilder<Ignore, byte[]?>(config).Build();
                consumer.Subscribe(KafkaTopics.UsageCorrections.Name);
                while (!stop.IsCancellationRequested)
                {
                    if (consumer.Consume(TimeSpan.FromMilliseconds(500)) is not { IsPartitionEOF: false } record) continue;
                    Apply(record);
                    consumer.Commit(record);
                }
            }
            catch (Exception ex) when (!stop.IsCancellationRequested)
            {
                logger.LogWarning(ex, "Following usage corrections failed; resuming from the last committed offset");
                stop.WaitHandle.WaitOne(TimeSpan.FromSeconds(1));
            }
            catch (Exception)
            {
                return;
            }
        }
    }

    private void Apply(ConsumeResult<Ignore, byte[]?> record)
    {
        var (voided, problem) = Read(record.Message.Value);
        if (voided is null)
        {
            Skip(record, problem!);
            return;
        }
        try
        {
            var given = grains.GetGrain<ITenantBudgetGrain>(voided.Tenant).VoidUsage(voided).GetAwaiter().GetResult();
            logger.LogInformation("Usage {Id} of {Tenant} voided: {Outcome}", voided.UsageId, voided.Tenant, given ? "given back" : "not counted here");
        }
        catch (Exception ex) when (RecordFaults.IsTiedToRecord(ex))
        {
            Skip(record, RecordFaults.Describe(ex));
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

    private void Skip(ConsumeResult<Ignore, byte[]?> record, string problem)
    {
        MeteringTelemetry.SideTopicRecordSkipped(KafkaTopics.UsageCorrections.Name);
        logger.LogWarning("Skipped the usage correction at {Origin}: {Problem}", record.TopicPartitionOffset, problem);
    }
}
