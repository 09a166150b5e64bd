using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Metering.Kafka;
using Metering.UsageTopic;
using Microsoft.Extensions.Logging;

namespace Metering.IntegrationTests;

/// <summary>
/// The development broker keeps at most 5 MB of each partition and drops the oldest records past it, read or not
/// (librdkafka's mock cluster). Usage produced the one way Metering produces it (<see cref="IdempotentProducer"/>,
/// zstd) fits several times over what it did uncompressed or with lz4; and when records are dropped before a group read
/// them anyway, the group says so (an error and <c>metering.usage.lost</c>) instead of going on as if none were missing.
/// Each test on a broker of its own, one tenant, so every record lands in one partition.
/// </summary>
public sealed class DevKafkaBoundTests : OwnBrokerTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly string _tenant = TestInfrastructure.UniqueTenant("bound");
    private DeadLetterProducer _deadLetters = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _deadLetters = new DeadLetterProducer(Configuration);
    }

    public override async Task DisposeAsync()
    {
        _deadLetters?.Dispose();
        await base.DisposeAsync();
    }

    private MemoryConsumer Consumer(string? group = null) =>
        new(Configuration, _deadLetters, group ?? "bound-" + Guid.NewGuid().ToString("N")[..8], new ErrorLog());

    /// <summary>Usage of the load generator's shape (FleetProfile): four meters per request, varied token counts and models.</summary>
    private List<Message<string?, byte[]>> Usage(int count, string run)
    {
        var random = new Random(7);
        string[] models = ["llama-4-70b", "llama-4-8b", "mistral-large-3", "qwen-3-32b", "deepseek-v4"];
        string[] services = ["chat-api", "summarise", "code-assist", "rag-search", "batch-eval"];
        var now = DateTimeOffset.UtcNow;
        return Enumerable.Range(0, count).Select(i =>
        {
            var (meter, quantity) = (i % 4) switch
            {
                0 => (Meters.InputTokens, (decimal)random.Next(1, 20_000)),
                1 => (Meters.OutputTokens, random.Next(1, 4_000)),
                2 => (Meters.CachedInputTokens, random.Next(1, 10_000)),
                _ => (Meters.GpuSeconds, Math.Round((decimal)random.NextDouble() * 30, 6) + 0.000001m),
            };
            var usage = new UsageEvent($"{run}-{i / 4}-{meter}", _tenant, meter, quantity, now.AddSeconds(-random.Next(0, 86_400 * 30)),
                models[random.Next(models.Length)], meter == Meters.GpuSeconds ? "h100" : null, services[random.Next(services.Length)]);
            return UsageMessages.Create(usage, now);
        }).ToList();
    }

    private IdempotentProducer Producer(CompressionType? compression = null) => new(compression is { } chosen
        ? new IdempotentProducerOptions { BootstrapServers = Kafka.BootstrapServers, ClientId = "bound-tests", Compression = chosen }
        : new IdempotentProducerOptions { BootstrapServers = Kafka.BootstrapServers, ClientId = "bound-tests" });

    private WatermarkOffsets Watermarks(int partition)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = Kafka.BootstrapServers, GroupId = "bound-watermarks" }).Build();
        return consumer.QueryWatermarkOffsets(new TopicPartition(KafkaTopics.Usage.Name, partition), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Usage_produced_the_one_way_fits_well_past_5_MB_into_one_partition_and_is_all_read_back()
    {
        // 140,000 records of ~210 bytes of JSON each: 29 MB as JSON, more than five times the bound. Uncompressed, the
        // partition kept about 20,000 of them; with lz4 (Ingest's and the emitter's setting before) about 110,000.
        Assert.Contains("bound: each partition keeps at most 5 MB or 100,000 message sets", Kafka.ReadyLine);
        const int count = 140_000;
        var messages = Usage(count, Guid.NewGuid().ToString("N")[..8]);
        Assert.True(messages.Sum(m => (long)m.Value.Length) > 5 * 5 * 1024 * 1024);
        using (var producer = Producer()) await producer.ProduceAllAsync(KafkaTopics.Usage.Name, messages, CancellationToken.None);

        var partition = PartitionOf(_tenant);
        var kept = Watermarks(partition);
        Assert.Equal((0L, (long)count), (kept.Low.Value, kept.High.Value));

        using var consumer = new ConsumerBuilder<string?, byte[]>(new ConsumerConfig
        {
            BootstrapServers = Kafka.BootstrapServers, GroupId = "bound-reader", EnableAutoCommit = false,
        }).Build();
        consumer.Assign(new TopicPartitionOffset(KafkaTopics.Usage.Name, partition, Offset.Beginning));
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var expected = messages.Select(m => System.Text.Json.JsonDocument.Parse(m.Value).RootElement.GetProperty("id").GetString()!).ToHashSet(StringComparer.Ordinal);
        var deadline = DateTime.UtcNow + Patience;
        while (ids.Count < count && DateTime.UtcNow < deadline)
        {
            if (consumer.Consume(TimeSpan.FromSeconds(1)) is { IsPartitionEOF: false } record)
                ids.Add(System.Text.Json.JsonDocument.Parse(record.Message.Value).RootElement.GetProperty("id").GetString()!);
        }
        Assert.Equal(count, ids.Count);
        Assert.True(expected.SetEquals(ids));
    }

    [Fact]
    public async Task Records_dropped_before_the_group_read_them_are_reported_as_lost_and_the_rest_is_counted()
    {
        using var store = Consumer();
        using var lost = new LostListener(store.Group);

        // The group reads the first records and commits them.
        var first = Usage(10, "first");
        using (var producer = Producer(CompressionType.None)) await producer.ProduceAllAsync(KafkaTopics.Usage.Name, first, CancellationToken.None);
        await store.StartAsync(CancellationToken.None);
        await WaitAsync(() => store.Stored.Count >= 10);
        await store.StopAsync(CancellationToken.None);
        Assert.Equal(0, lost.Total);

        // While it is away, uncompressed usage well past 5 MB: the broker drops the oldest, none of which the group read.
        var later = Usage(30_000, "later");
        using (var producer = Producer(CompressionType.None)) await producer.ProduceAllAsync(KafkaTopics.Usage.Name, later, CancellationToken.None);
        var kept = Watermarks(PartitionOf(_tenant));
        Assert.True(kept.Low.Value > 10, $"the broker kept offsets {kept.Low} to {kept.High}");

        using var again = Consumer(store.Group);
        await again.StartAsync(CancellationToken.None);
        try
        {
            await WaitAsync(() => again.Stored.Count >= kept.High.Value - kept.Low.Value);
            Assert.Equal(kept.High.Value - kept.Low.Value, again.Stored.Count);
            await WaitAsync(() => lost.Total > 0);
            Assert.Equal(kept.Low.Value - 10, lost.Total);
            var error = Assert.Single(again.Errors);
            Assert.Contains($"never read {kept.Low.Value - 10} records of {KafkaTopics.Usage.Name}", error);
            Assert.Contains($"(offsets 10 to {kept.Low.Value - 1})", error);
        }
        finally
        {
            await again.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_group_that_read_everything_reports_nothing_lost()
    {
        using var store = Consumer();
        using var lost = new LostListener(store.Group);
        using (var producer = Producer()) await producer.ProduceAllAsync(KafkaTopics.Usage.Name, Usage(2_000, "all"), CancellationToken.None);
        await store.StartAsync(CancellationToken.None);
        try
        {
            await WaitAsync(() => store.Stored.Count >= 2_000);
        }
        finally
        {
            await store.StopAsync(CancellationToken.None);
        }
        // And again from the committed offsets: a restart is not a gap either.
        using (var producer = Producer()) await producer.ProduceAllAsync(KafkaTopics.Usage.Name, Usage(100, "more"), CancellationToken.None);
        using var again = Consumer(store.Group);
        await again.StartAsync(CancellationToken.None);
        try
        {
            await WaitAsync(() => again.Stored.Count >= 100);
        }
        finally
        {
            await again.StopAsync(CancellationToken.None);
        }
        Assert.Equal(2_000, store.Stored.Count);
        Assert.Equal(100, again.Stored.Count);
        Assert.Equal(0, lost.Total);
        Assert.Empty(store.Errors.Concat(again.Errors));
    }

    private int PartitionOf(string tenant)
    {
        // Ask the broker where the producer put the tenant's records rather than re-implementing librdkafka's partitioner.
        for (var p = 0; p < KafkaTopics.Usage.Partitions; p++)
            if (Watermarks(p).High.Value > 0) return p;
        throw new InvalidOperationException($"no partition holds {tenant}'s records");
    }

    private static async Task WaitAsync(Func<bool> done)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!done() && DateTime.UtcNow < deadline) await Task.Delay(100);
        Assert.True(done(), "timed out");
    }

    /// <summary>Sums <c>metering.usage.lost</c> for one consumer group.</summary>
    private sealed class LostListener : IDisposable
    {
        private readonly MeterListener _listener = new();
        private long _total;

        public LostListener(string group)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument is { Name: "metering.usage.lost", Meter.Name: "Metering" }) listener.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                foreach (var tag in tags)
                    if (tag is { Key: "messaging.consumer.group.name" } && Equals(tag.Value, group)) Interlocked.Add(ref _total, value);
            });
            _listener.Start();
        }

        public long Total => Interlocked.Read(ref _total);

        public void Dispose() => _listener.Dispose();
    }

    /// <summary>The real consumer loop, storing the ids it is handed in memory and keeping the errors it logs.</summary>
    private sealed class MemoryConsumer(IConfiguration configuration, DeadLetterProducer deadLetters, string group, ErrorLog log)
        : UsageTopicConsumer(configuration, deadLetters, TimeProvider.System, log)
    {
        public string Group => group;
        public ConcurrentDictionary<string, byte> Stored { get; } = new(StringComparer.Ordinal);
        public IReadOnlyList<string> Errors => [.. log.Errors];

        protected override string GroupId => group;

        protected override Task HandleAsync(IReadOnlyList<UsageRecord> usage, CancellationToken ct)
        {
            foreach (var record in usage) Stored.TryAdd(record.Usage.Id, 0);
            return Task.CompletedTask;
        }
    }

    private sealed class ErrorLog : ILogger
    {
        public ConcurrentQueue<string> Errors { get; } = new();

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel >= LogLevel.Error) Errors.Enqueue(formatter(state, exception));
        }
    }
}
