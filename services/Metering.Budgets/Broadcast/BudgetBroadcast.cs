using System.Text.Json;
using Confluent.Kafka;
using Metering.Contracts;

namespace Metering.Budgets.Broadcast;

/// <summary>
/// Publishes status changes to <c>metering.budget-status.v1</c> (compacted, keyed by tenant: its latest record is the
/// tenant's status) and threshold crossings to <c>metering.budget-alerts.v1</c>. No linger: a throttle must reach the
/// platform services at once.
/// </summary>
public sealed class BudgetBroadcast(IConfiguration configuration) : IDisposable
{
    private readonly IProducer<string, byte[]> _producer = new ProducerBuilder<string, byte[]>(new ProducerConfig
    {
        BootstrapServers = MeteringSettings.KafkaBootstrapServers(configuration),
        ClientId = "metering-budgets-broadcast",
        EnableIdempotence = true,
        Acks = Acks.All,
        LingerMs = 0,
    }).Build();

    public Task PublishAsync(BudgetStatusChanged change, CancellationToken ct) =>
        _producer.ProduceAsync(KafkaTopics.BudgetStatus.Name,
            new Message<string, byte[]> { Key = change.Tenant, Value = JsonSerializer.SerializeToUtf8Bytes(change, MeteringJson.Options) }, ct);

    public Task PublishAsync(BudgetAlert alert, CancellationToken ct) =>
        _producer.ProduceAsync(KafkaTopics.BudgetAlerts.Name,
            new Message<string, byte[]> { Key = alert.Tenant, Value = JsonSerializer.SerializeToUtf8Bytes(alert, MeteringJson.Options) }, ct);

    public void Dispose()
    {
        _producer.Flush(TimeSpan.FromSeconds(5));
        _producer.Dispose();
    }
}
