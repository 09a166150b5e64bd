using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Metering.Kafka;

public sealed record IdempotentProducerOptions
{
    public required string BootstrapServers { get; init; }
    public required string ClientId { get; init; }
    public int LingerMs { get; init; } = 5;

    /// <summary>
    /// zstd unless set: a broker keeps batches as they were sent, so the better they compress, the more unread records
    /// a partition holds. The development broker (librdkafka's mock cluster) keeps 5 MB per partition: of the load
    /// generator's usage, in batches of 40, about 145,000 records with zstd, 95,000 with lz4, 23,500 uncompressed.
    /// </summary>
    public CompressionType Compression { get; init; } = CompressionType.Zstd;

    /// <summary>How long librdkafka tries to deliver one produce before it reports the message as failed.</summary>
    public TimeSpan DeliveryTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>librdkafka's own queue bound; its default when null.</summary>
    public int? QueueBufferingMaxMessages { get; init; }

    /// <summary>How long disposing waits for messages still queued.</summary>
    public TimeSpan FlushOnDispose { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Last word on the configuration (security settings of a real cluster, for instance).</summary>
    public Action<ProducerConfig>? Configure { get; init; }

    /// <summary>Where librdkafka's log lines go.</summary>
    public ILogger Logger { get; init; } = NullLogger.Instance;
}

/// <summary>
/// The one way Metering produces to Kafka (Ingest, the emitter, the dead letters of every consumer group, Budgets'
/// broadcast): one long-lived producer per use, idempotent with acks=all, so a retried send neither duplicates nor
/// reorders a key's records. Billing's integration messages are the exception by design: they leave through Wolverine's Marten outbox
/// in the transaction that caused them.
/// </summary>
public sealed class IdempotentProducer : IDisposable
{
    private readonly IProducer<string?, byte[]> _producer;
    private readonly TimeSpan _flushOnDispose;

    public IdempotentProducer(IdempotentProducerOptions options)
    {
        var config = new ProducerConfig
        {
            BootstrapServers = options.BootstrapServers,
            ClientId = options.ClientId,
            EnableIdempotence = true,
            Acks = Acks.All,
            LingerMs = options.LingerMs,
            CompressionType = options.Compression,
            MessageTimeoutMs = (int)options.DeliveryTimeout.TotalMilliseconds,
        };
        if (options.QueueBufferingMaxMessages is { } queue) config.QueueBufferingMaxMessages = queue;
        options.Configure?.Invoke(config);
        var logger = options.Logger;
        _producer = new ProducerBuilder<string?, byte[]>(config)
            .SetLogHandler((_, m) => logger.LogInformation("kafka: {Facility} {Message}", m.Facility, m.Message))
            .Build();
        _flushOnDispose = options.FlushOnDispose;
    }

    /// <summary>For a <see cref="DependentAdminClientBuilder"/> (metadata for a health check).</summary>
    public Handle Handle => _producer.Handle;

    /// <summary>Queues the message; <paramref name="onDelivered"/> gets Kafka's answer. Throws when librdkafka cannot queue it (its queue full, for one).</summary>
    public void Produce(string topic, Message<string?, byte[]> message, Action<DeliveryReport<string?, byte[]>> onDelivered) =>
        _producer.Produce(topic, message, onDelivered);

    /// <summary>Completes once Kafka acknowledged the message; throws if it did not.</summary>
    public Task ProduceAsync(string topic, Message<string?, byte[]> message, CancellationToken ct) =>
        _producer.ProduceAsync(topic, message, ct);

    /// <summary>
    /// Produces every message and completes when Kafka acknowledged all of them; throws the first delivery error, if
    /// any. While librdkafka's queue is full it waits for it to drain rather than failing.
    /// </summary>
    public async Task ProduceAllAsync(string topic, IReadOnlyList<Message<string?, byte[]>> messages, CancellationToken ct)
    {
        // One completion for all of them rather than a Task per message: the delivery reports count down to it.
        var deliveries = new Deliveries(messages.Count);
        Action<DeliveryReport<string?, byte[]>> onReport = deliveries.OnReport;
        foreach (var message in messages)
        {
            while (true)
            {
                try
                {
                    _producer.Produce(topic, message, onReport);
                    break;
                }
                catch (ProduceException<string?, byte[]> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull)
                {
                    await Task.Delay(1, ct);
                }
            }
        }
        await deliveries.Completion.WaitAsync(ct);
    }

    /// <summary>Serves delivery reports now (they are otherwise served by librdkafka's own poll).</summary>
    public void Poll(TimeSpan timeout) => _producer.Poll(timeout);

    private sealed class Deliveries(int count)
    {
        private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _remaining = count;
        private Error? _firstError;

        public Task Completion => _remaining == 0 ? Task.CompletedTask : _completion.Task;

        public void OnReport(DeliveryReport<string?, byte[]> report)
        {
            if (report.Error.IsError) Interlocked.CompareExchange(ref _firstError, report.Error, null);
            if (Interlocked.Decrement(ref _remaining) != 0) return;
            if (_firstError is { } error) _completion.TrySetException(new KafkaException(error));
            else _completion.TrySetResult();
        }
    }

    public void Dispose()
    {
        _producer.Flush(_flushOnDispose);
        _producer.Dispose();
    }
}
