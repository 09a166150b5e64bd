using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using Metering.Contracts;
using Metering.Contracts.Usage;
using Metering.ServiceDefaults;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Metering.Ingest.Usage;

/// <summary>
/// The one long-lived Kafka producer of Ingest: idempotent, acks=all, keyed by tenant so a tenant's events stay in
/// one partition and in order. Carries the W3C trace context in the <c>traceparent</c> header.
/// </summary>
public sealed class UsageProducer : IHealthCheck, IDisposable
{
    private readonly IProducer<string, byte[]> _producer;
    private readonly IAdminClient _admin;

    public UsageProducer(IConfiguration configuration, ILogger<UsageProducer> logger)
    {
        var config = new ProducerConfig
        {
            BootstrapServers = MeteringSettings.KafkaBootstrapServers(configuration),
            ClientId = "metering-ingest",
            EnableIdempotence = true,
            Acks = Acks.All,
            LingerMs = 2,
            CompressionType = CompressionType.Lz4,
            MessageTimeoutMs = 30_000,
        };
        _producer = new ProducerBuilder<string, byte[]>(config)
            .SetLogHandler((_, m) => logger.LogInformation("kafka: {Facility} {Message}", m.Facility, m.Message))
            .Build();
        _admin = new DependentAdminClientBuilder(_producer.Handle).Build();
    }

    /// <summary>
    /// Produces every event and completes when Kafka acknowledged all of them; throws if any failed. Each record's
    /// timestamp is <paramref name="validatedAt"/>, the instant the events were validated at: consumers judge an event's
    /// age by its record's timestamp, so an event accepted here is judged by exactly the same clock there.
    /// </summary>
    public async Task ProduceAllAsync(IReadOnlyList<UsageEvent> events, DateTimeOffset validatedAt, CancellationToken cancellationToken)
    {
        var timestamp = new Timestamp(validatedAt);
        var traceparent = Activity.Current?.Id is { } id ? Encoding.ASCII.GetBytes(id) : null;
        // One completion for the whole request rather than a Task per event: the delivery reports count down to it.
        var deliveries = new RequestDeliveries(events.Count);
        Action<DeliveryReport<string, byte[]>> onReport = deliveries.OnReport;
        foreach (var e in events)
        {
            var message = new Message<string, byte[]> { Key = e.Tenant, Value = UsageEventJson.Write(e), Timestamp = timestamp };
            if (traceparent is not null) message.Headers = new Headers { { "traceparent", traceparent } };
            while (true)
            {
                try
                {
                    _producer.Produce(KafkaTopics.Usage.Name, message, onReport);
                    break;
                }
                catch (ProduceException<string, byte[]> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull)
                {
                    await Task.Delay(1, cancellationToken); // librdkafka's queue is full: let it drain
                }
            }
        }
        await deliveries.Completion.WaitAsync(cancellationToken);
    }

    /// <summary>Completes when every event of a request has its delivery report; fails with the first error, if any.</summary>
    private sealed class RequestDeliveries(int count)
    {
        private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _remaining = count;
        private Error? _firstError;

        public Task Completion => _completion.Task;

        public void OnReport(DeliveryReport<string, byte[]> report)
        {
            if (report.Error.IsError) Interlocked.CompareExchange(ref _firstError, report.Error, null);
            if (Interlocked.Decrement(ref _remaining) != 0) return;
            if (_firstError is { } error) _completion.TrySetException(new KafkaException(error));
            else _completion.TrySetResult();
        }
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var metadata = _admin.GetMetadata(KafkaTopics.Usage.Name, TimeSpan.FromSeconds(3));
            var topic = metadata.Topics.SingleOrDefault();
            return Task.FromResult(topic is { Error.IsError: false }
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy($"topic {KafkaTopics.Usage.Name} is not available"));
        }
        catch (KafkaException ex)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("Kafka is not reachable", ex));
        }
    }

    public void Dispose()
    {
        _producer.Flush(TimeSpan.FromSeconds(10));
        _admin.Dispose();
        _producer.Dispose();
    }
}
