using System.Text.Json;
using Confluent.Kafka;
using Metering.Contracts;
using Metering.Kafka;
using Microsoft.Extensions.Logging.Abstractions;

namespace Metering.Budgets.Broadcast;

/// <summary>
/// Publishes status changes to <c>metering.budget-status.v1</c> (compacted, keyed by tenant: its latest record is the
/// tenant's status) and threshold crossings to <c>metering.budget-alerts.v1</c>, through Metering's one producer path
/// (<see cref="IdempotentProducer"/>). No linger: a throttle must reach the platform services at once.
/// </summary>
public sealed class BudgetBroadcast(IConfiguration configuration, ILoggerFactory? loggers = null) : IDisposable
{
    private readonly IdempotentProducer _producer = new(new IdempotentProducerOptions
    {
        BootstrapServers = MeteringSettings.KafkaBootstrapServers(configuration),
        ClientId = "metering-budgets-broadcast",
        LingerMs = 0,
        // librdkafka's own default, which this producer always had: a publish waits out a broker outage of minutes.
        DeliveryTimeout = TimeSpan.FromMinutes(5),
        Logger = loggers is null ? NullLogger.Instance : loggers.CreateLogger<BudgetBroadcast>(),
    });

    public Task PublishAsync(BudgetStatusChanged change, CancellationToken ct) =>
        _producer.ProduceAsync(KafkaTopics.BudgetStatus.Name,
            new Message<string?, byte[]> { Key = change.Tenant, Value = JsonSerializer.SerializeToUtf8Bytes(change, MeteringJson.Options) }, ct);

    public Task PublishAsync(BudgetAlert alert, CancellationToken ct) =>
        _producer.ProduceAsync(KafkaTopics.BudgetAlerts.Name,
            new Message<string?, byte[]> { Key = alert.Tenant, Value = JsonSerializer.SerializeToUtf8Bytes(alert, MeteringJson.Options) }, ct);

    public void Dispose() => _producer.Dispose();
}
