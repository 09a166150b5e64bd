using System.Text.Json;
using Confluent.Kafka;
using Metering.Budgets.Tracking;
using Metering.Contracts;
using Metering.Contracts.Billing;
using Metering.ServiceDefaults;

namespace Metering.Budgets.Corrections;

/// <summary>
/// Gives voided usage back: follows <c>metering.usage-corrections.v1</c> in the <c>metering-budgets-corrections</c>
/// group and hands each <see cref="UsageVoided"/> to its tenant's grain, committing offsets only afterwards. The grain
/// recognises a void it has applied before, so redelivery is harmless.
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
                using var consumer = new ConsumerBuilder<string?, byte[]>(config).Build();
                consumer.Subscribe(KafkaTopics.UsageCorrections.Name);
                while (!stop.IsCancellationRequested)
                {
                    if (consumer.Consume(TimeSpan.FromMilliseconds(500)) is not { IsPartitionEOF: false } record) continue;
                    var voided = JsonSerializer.Deserialize<UsageVoided>(record.Message.Value, MeteringJson.Options);
                    if (voided is not null)
                    {
                        var given = grains.GetGrain<ITenantBudgetGrain>(voided.Tenant).VoidUsage(voided).GetAwaiter().GetResult();
                        logger.LogInformation("Usage {Id} of {Tenant} voided: {Outcome}", voided.UsageId, voided.Tenant, given ? "given back" : "not counted here");
                    }
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
}
