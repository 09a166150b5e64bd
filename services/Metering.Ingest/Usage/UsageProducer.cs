using System.Diagnostics;
using Confluent.Kafka;
using Metering.Contracts;
using Metering.Contracts.Usage;
using Metering.Kafka;
using Metering.ServiceDefaults;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Metering.Ingest.Usage;

/// <summary>
/// The one long-lived Kafka producer of Ingest (an <see cref="IdempotentProducer"/>: acks=all), for the usage it
/// accepts — keyed by tenant so a tenant's events stay in one partition and in order, with the W3C trace context, as
/// <see cref="UsageMessages"/> shapes them for the emitter too — and for what it refuses (<see cref="IngestRejects"/>).
/// </summary>
public sealed class UsageProducer : IHealthCheck, IDisposable
{
    private readonly IAdminClient _admin;

    public UsageProducer(IConfiguration configuration, ILogger<UsageProducer> logger)
    {
        Kafka = new IdempotentProducer(new IdempotentProducerOptions
        {
            BootstrapServers = MeteringSettings.KafkaBootstrapServers(configuration),
            ClientId = "metering-ingest",
            LingerMs = 2,
            FlushOnDispose = TimeSpan.FromSeconds(10),
            Logger = logger,
        });
        _admin = new DependentAdminClientBuilder(Kafka.Handle).Build();
    }

    /// <summary>The producer itself, which <see cref="IngestRejects"/> publishes through.</summary>
    internal IdempotentProducer Kafka { get; }

    /// <summary>
    /// Produces every event as usage batch v2, one record per tenant of the request (more when a tenant's events exceed
    /// <see cref="UsageBatchEncoding.MaxRecordBytes"/>), and completes when Kafka acknowledged all of them; throws if any
    /// failed. Each record's timestamp is <paramref name="validatedAt"/>, the instant the events were validated at, and
    /// its trace context the request's.
    /// </summary>
    public Task ProduceAllAsync(IReadOnlyList<UsageEvent> events, DateTimeOffset validatedAt, CancellationToken cancellationToken)
    {
        if (events.Count == 0) return Task.CompletedTask;
        var records = new List<Message<string?, byte[]>>(1);
        foreach (var (tenant, usage) in ByTenant(events))
            UsageMessages.AddBatches(records, tenant, usage, validatedAt, Activity.Current);
        return Kafka.ProduceAllAsync(KafkaTopics.Usage.Name, records, cancellationToken);
    }

    /// <summary>The events of each tenant, in request order; a request of one tenant (the usual one) without a copy.</summary>
    private static IEnumerable<(string Tenant, UsageEvent[] Events)> ByTenant(IReadOnlyList<UsageEvent> events)
    {
        var first = events[0].Tenant;
        var single = true;
        for (var i = 1; i < events.Count && single; i++) single = string.Equals(events[i].Tenant, first, StringComparison.Ordinal);
        if (single) return [(first, events as UsageEvent[] ?? [.. events])];
        return events.GroupBy(e => e.Tenant, StringComparer.Ordinal).Select(g => (g.Key, g.ToArray()));
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
        _admin.Dispose();
        Kafka.Dispose();
    }
}
