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

    /// <summary>Produces every event and completes when Kafka acknowledged all of them; throws if any failed.</summary>
    public async Task ProduceAllAsync(IReadOnlyList<UsageEvent> events, CancellationToken cancellationToken)
    {
        var traceparent = Activity.Current?.Id;
        var deliveries = new Task[events.Count];
        for (var i = 0; i < events.Count; i++)
        {
            var message = new Message<string, byte[]> { Key = events[i].Tenant, Value = UsageEventJson.Write(events[i]) };
            if (traceparent is not null)
                message.Headers = new Headers { { "traceparent", Encoding.ASCII.GetBytes(traceparent) } };
            deliveries[i] = _producer.ProduceAsync(KafkaTopics.Usage.Name, message, cancellationToken);
        }
        await Task.WhenAll(deliveries);
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
