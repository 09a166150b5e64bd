using System.Globalization;
using System.Text;

namespace Metering.UsageTopic;

/// <summary>
/// The one producer of <c>metering.usage.dead-letters.v1</c>. Every consumer group publishes there each usage-topic
/// record it does not count: the original key and bytes, with headers saying why, which group set it apart and where
/// the record came from. A record two groups set apart is published by each of them (and again after a redelivery);
/// the origin header is the same every time, so whoever counts dead letters counts the record once. Published through
/// an <see cref="IdempotentProducer"/> and awaited: the usage offsets are committed only after Kafka took the dead letter.
/// </summary>
public sealed class DeadLetterProducer(IConfiguration configuration) : IDisposable
{
    public const string ReasonHeader = DeadLetterHeaders.Reason;
    public const string OriginHeader = DeadLetterHeaders.Origin;
    public const string GroupHeader = DeadLetterHeaders.Group;
    public const string CauseHeader = DeadLetterHeaders.Cause;
    public const string ProducedAtHeader = DeadLetterHeaders.ProducedAt;

    /// <summary>Reasons are cut to this many characters: a store's message can quote a long value.</summary>
    public const int MaxReasonLength = 1024;

    private readonly IdempotentProducer _producer = new(new IdempotentProducerOptions
    {
        BootstrapServers = MeteringSettings.KafkaBootstrapServers(configuration),
        ClientId = "metering-dead-letters",
        // librdkafka's default: the consumer's own store timeout bounds the wait for a dead letter.
        DeliveryTimeout = TimeSpan.FromMinutes(5),
    });

    /// <summary>
    /// Where the record came from (<c>topic/partition/offset</c>, and <c>#index</c> for one event of a usage batch v2);
    /// with its produce time, because offsets restart when a topic is recreated.
    /// </summary>
    public static string OriginOf(RejectedRecord rejected) =>
        $"{rejected.Origin.Topic}/{rejected.Origin.Partition.Value}/{rejected.Origin.Offset.Value}{(rejected.Index is { } index ? $"#{index}" : "")}@{rejected.ProducedAt.ToUnixTimeMilliseconds()}";

    public Task PublishAsync(RejectedRecord rejected, string group, CancellationToken ct) =>
        _producer.ProduceAsync(KafkaTopics.UsageDeadLetters.Name, new Message<string?, byte[]>
        {
            Key = rejected.Key,
            Value = rejected.Payload,
            Headers = new Headers
            {
                { ReasonHeader, Encoding.UTF8.GetBytes(Shorten(rejected.Reason)) },
                { OriginHeader, Encoding.UTF8.GetBytes(OriginOf(rejected)) },
                { GroupHeader, Encoding.UTF8.GetBytes(group) },
                { CauseHeader, Encoding.UTF8.GetBytes(DeadLetterCauses.Name(rejected.Cause)) },
                { ProducedAtHeader, Encoding.UTF8.GetBytes(rejected.ProducedAt.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)) },
            },
        }, ct);

    public static string Shorten(string reason) => reason.Length <= MaxReasonLength ? reason : reason[..(MaxReasonLength - 1)] + "…";

    public void Dispose() => _producer.Dispose();
}
