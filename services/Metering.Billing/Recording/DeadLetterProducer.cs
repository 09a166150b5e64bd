using System.Text;
using Confluent.Kafka;
using Metering.Contracts;
using Metering.ServiceDefaults;
using Metering.UsageTopic;

namespace Metering.Billing.Recording;

/// <summary>
/// Publishes usage-topic records that are not valid usage events to the dead-letter topic: the original key and
/// bytes, the reason and the origin in headers. Billing is the one consumer that dead-letters, so each bad record is
/// published once per delivery to Billing rather than once per consumer group.
/// </summary>
public sealed class DeadLetterProducer(IConfiguration configuration) : IDisposable
{
    public const string ReasonHeader = "metering-dead-letter-reason";
    public const string OriginHeader = "metering-dead-letter-origin";

    private readonly IProducer<string?, byte[]> _producer = new ProducerBuilder<string?, byte[]>(new ProducerConfig
    {
        BootstrapServers = MeteringSettings.KafkaBootstrapServers(configuration),
        ClientId = "metering-billing-dead-letters",
        EnableIdempotence = true,
        Acks = Acks.All,
    }).Build();

    /// <summary>Where the record came from; with its produce time, because offsets restart when a topic is recreated.</summary>
    public static string OriginOf(RejectedRecord rejected) =>
        $"{rejected.Origin.Topic}/{rejected.Origin.Partition.Value}/{rejected.Origin.Offset.Value}@{rejected.ProducedAt.ToUnixTimeMilliseconds()}";

    public Task PublishAsync(RejectedRecord rejected, CancellationToken ct) =>
        _producer.ProduceAsync(KafkaTopics.UsageDeadLetters.Name, new Message<string?, byte[]>
        {
            Key = rejected.Key,
            Value = rejected.Payload,
            Headers = new Headers
            {
                { ReasonHeader, Encoding.UTF8.GetBytes(rejected.Reason) },
                { OriginHeader, Encoding.UTF8.GetBytes(OriginOf(rejected)) },
            },
        }, ct);

    public void Dispose()
    {
        _producer.Flush(TimeSpan.FromSeconds(5));
        _producer.Dispose();
    }
}
