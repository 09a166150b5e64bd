using Confluent.Kafka;
using Metering.Contracts;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Metering.Emitter;

/// <summary>What <see cref="UsageEmitter.EmitAsync"/> does when <see cref="UsageEmitterOptions.BufferCapacity"/> events await Kafka.</summary>
public enum BufferFullBehavior
{
    /// <summary>Wait until Kafka acknowledges enough events (or the caller's cancellation token fires).</summary>
    Block,

    /// <summary>Throw <see cref="UsageBufferFullException"/> at once.</summary>
    Throw,
}

public sealed record UsageEmitterOptions
{
    public required string BootstrapServers { get; init; }
    public string Topic { get; init; } = KafkaTopics.Usage.Name;

    /// <summary>How many emitted events may wait for Kafka's acknowledgement at once; the bound of the buffer.</summary>
    public int BufferCapacity { get; init; } = 100_000;

    public BufferFullBehavior WhenBufferFull { get; init; } = BufferFullBehavior.Block;
    public string ClientId { get; init; } = "metering-emitter";
    public int LingerMs { get; init; } = 20;
    /// <summary>zstd unless set, as every producer of Metering (see <c>IdempotentProducerOptions.Compression</c>).</summary>
    public CompressionType Compression { get; init; } = CompressionType.Zstd;

    /// <summary>
    /// How long librdkafka keeps trying to deliver one produce attempt. When it gives up, the emitter produces the
    /// event again; consumers count an event once by (tenant, id), so a delivery that did land is not counted twice.
    /// </summary>
    public TimeSpan DeliveryTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan RetryBackoff { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How long disposing waits for the buffer to drain before it throws <see cref="UsageNotDeliveredException"/>.</summary>
    public TimeSpan DisposeTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>Last word on the producer configuration (security settings of a real cluster, for instance).</summary>
    public Action<ProducerConfig>? ConfigureProducer { get; init; }

    /// <summary>Follow the budget-status topic so that <see cref="UsageEmitter.IsThrottled"/> answers from memory.</summary>
    public bool WatchThrottles { get; init; } = true;

    /// <summary>Last word on the configuration of the consumer that follows throttles.</summary>
    public Action<ConsumerConfig>? ConfigureConsumer { get; init; }

    /// <summary>Where the emitter reports what it passes over, such as a budget-status record it cannot read.</summary>
    public ILogger Logger { get; init; } = NullLogger.Instance;
}
