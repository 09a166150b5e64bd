using Metering.Ingest.Usage;

namespace Metering.IntegrationTests;

/// <summary>
/// Ingest's producer and the emitter stamp each record with the instant they validated its event at, and consumers
/// judge the event's age by the record's timestamp: an event accepted at the very edge of the 62-day window is still
/// valid downstream, however much later it is produced or consumed.
/// </summary>
public sealed class RecordTimestampTests : OwnBrokerTests
{
    private readonly string _tenant = TestInfrastructure.UniqueTenant("stamp");

    /// <summary>A validation instant well before the wall clock (Kafka keeps milliseconds): a producer that stamped records with the wall clock would show it.</summary>
    private static DateTimeOffset ValidatedAt() =>
        DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.AddSeconds(-30).ToUnixTimeMilliseconds());

    /// <summary>An event exactly 62 days older than the instant it is validated at: the oldest the rules accept.</summary>
    private UsageEvent AtTheEdge(DateTimeOffset validatedAt) =>
        new("edge", _tenant, Meters.InputTokens, 10, validatedAt - UsageEventRules.MaxAge, Model: "m");

    private ConsumeResult<string, byte[]> ReadRecord()
    {
        using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
        {
            BootstrapServers = Kafka.BootstrapServers, GroupId = "timestamp-tests", EnableAutoCommit = false,
        }).Build();
        consumer.Assign(Enumerable.Range(0, KafkaTopics.Usage.Partitions).Select(p => new TopicPartitionOffset(KafkaTopics.Usage.Name, p, Offset.Beginning)));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
            if (consumer.Consume(TimeSpan.FromMilliseconds(500)) is { } record && record.Message.Key == _tenant) return record;
        throw new TimeoutException("the record never arrived");
    }

    /// <summary>This test's tenant's records, until they hold <paramref name="events"/> events.</summary>
    private List<(DateTimeOffset Stamp, IReadOnlyList<UsageEvent> Events)> ReadBatches(int events)
    {
        using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
        {
            BootstrapServers = Kafka.BootstrapServers, GroupId = "timestamp-tests", EnableAutoCommit = false,
        }).Build();
        consumer.Assign(Enumerable.Range(0, KafkaTopics.Usage.Partitions).Select(p => new TopicPartitionOffset(KafkaTopics.Usage.Name, p, Offset.Beginning)));
        var batches = new List<(DateTimeOffset, IReadOnlyList<UsageEvent>)>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (batches.Sum(b => b.Item2.Count) < events && DateTime.UtcNow < deadline)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(500)) is not { } record || record.Message.Key != _tenant) continue;
            Assert.True(UsageBatchEncoding.TryRead(record.Message.Value, out var read, out var problem), problem);
            batches.Add((new DateTimeOffset(record.Message.Timestamp.UtcDateTime), read));
        }
        return batches;
    }

    /// <summary>What a consumer makes of the record: it judges the event against the record's timestamp.</summary>
    private static void AssertAcceptedDownstream(ConsumeResult<string, byte[]> record, DateTimeOffset validatedAt)
    {
        Assert.Equal(TimestampType.CreateTime, record.Message.Timestamp.Type);
        Assert.Equal(validatedAt, new DateTimeOffset(record.Message.Timestamp.UtcDateTime));
        Assert.True(UsageBatchEncoding.TryRead(record.Message.Value, out var events, out var problem), problem);
        Assert.Empty(UsageEventRules.Validate(Assert.Single(events), new DateTimeOffset(record.Message.Timestamp.UtcDateTime)));
    }

    [Fact]
    public async Task Ingest_stamps_each_record_with_the_instant_it_validated_the_event_at()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["KAFKA_BOOTSTRAP_SERVERS"] = Kafka.BootstrapServers })
            .Build();
        var validatedAt = ValidatedAt();
        var usage = AtTheEdge(validatedAt);
        Assert.Empty(UsageEventRules.Validate(usage, validatedAt));

        using (var producer = new UsageProducer(configuration, NullLogger<UsageProducer>.Instance))
            await producer.ProduceAllAsync([usage], validatedAt, CancellationToken.None);

        AssertAcceptedDownstream(ReadRecord(), validatedAt);
    }

    [Fact]
    public async Task The_emitter_stamps_each_record_with_the_instant_it_validated_the_event_at()
    {
        var validatedAt = ValidatedAt();
        await using (var emitter = new UsageEmitter(new UsageEmitterOptions
                     {
                         BootstrapServers = Kafka.BootstrapServers, WatchThrottles = false, Clock = new FakeTimeProvider(validatedAt),
                     }))
        {
            await emitter.EmitAsync(AtTheEdge(validatedAt));
            await emitter.FlushAsync();
        }

        AssertAcceptedDownstream(ReadRecord(), validatedAt);
    }

    [Fact]
    public async Task An_event_at_the_edge_is_not_batched_under_a_later_instant_that_would_judge_it_too_old()
    {
        var validatedAt = ValidatedAt();
        var clock = new FakeTimeProvider(validatedAt);
        // One flush holds both: the first validated at the edge, the second 5 ms later, which stamps their tenant's batch.
        await using (var emitter = new UsageEmitter(new UsageEmitterOptions
                     {
                         BootstrapServers = Kafka.BootstrapServers, WatchThrottles = false, Clock = clock, LingerMs = 5_000,
                     }))
        {
            await emitter.EmitAsync(AtTheEdge(validatedAt));
            clock.Advance(TimeSpan.FromMilliseconds(5));
            await emitter.EmitAsync(AtTheEdge(validatedAt) with { Id = "later", Timestamp = validatedAt });
            await emitter.FlushAsync();
        }

        var batches = ReadBatches(2);
        Assert.Equal(["edge", "later"], batches.SelectMany(b => b.Events).Select(e => e.Id).Order(StringComparer.Ordinal));
        Assert.All(batches, b => Assert.All(b.Events, e => Assert.Empty(UsageEventRules.Validate(e, b.Stamp))));
        Assert.Equal(validatedAt, batches.Single(b => b.Events.Any(e => e.Id == "edge")).Stamp);
    }
}
