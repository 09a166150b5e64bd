using Metering.Kafka;
using System.Diagnostics;

namespace Metering.IntegrationTests;

/// <summary>The emitter library against a development broker of each test's own, with faults injected into it.</summary>
public sealed class UsageEmitterTests : OwnBrokerTests
{

    private UsageEmitterOptions Options(int capacity = 10_000, BufferFullBehavior whenFull = BufferFullBehavior.Block) => new()
    {
        BootstrapServers = Kafka.BootstrapServers,
        BufferCapacity = capacity,
        WhenBufferFull = whenFull,
        DeliveryTimeout = TimeSpan.FromSeconds(3),
        RetryBackoff = TimeSpan.FromMilliseconds(100),
        DisposeTimeout = TimeSpan.FromSeconds(20),
    };

    private static UsageEvent Usage(string tenant, int i) =>
        new($"u{i}", tenant, Meters.OutputTokens, i, DateTimeOffset.UtcNow, Model: "llama-4-70b");

    /// <summary>Every record on the usage topic, read from the start of every partition, until they hold at least <paramref name="atLeast"/> events.</summary>
    private List<ConsumeResult<string, byte[]>> ReadTopic(int atLeast)
    {
        using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
        {
            BootstrapServers = Kafka.BootstrapServers, GroupId = "emitter-tests", EnableAutoCommit = false,
        }).Build();
        consumer.Assign(Enumerable.Range(0, KafkaTopics.Usage.Partitions)
            .Select(p => new TopicPartitionOffset(KafkaTopics.Usage.Name, p, Offset.Beginning)));
        var records = new List<ConsumeResult<string, byte[]>>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            var enough = records.Sum(r => EventsOf(r).Count) >= atLeast;
            var record = consumer.Consume(TimeSpan.FromMilliseconds(enough ? 500 : 2000));
            if (record is null) { if (enough) break; continue; }
            records.Add(record);
        }
        return records;
    }

    /// <summary>The events of a record: the emitter writes usage batch v2, one tenant's events in each.</summary>
    private static IReadOnlyList<UsageEvent> EventsOf(ConsumeResult<string, byte[]> record)
    {
        Assert.True(UsageMessages.IsBatch(record.Message.Headers, record.Message.Value));
        Assert.True(UsageBatchEncoding.TryRead(record.Message.Value, out var events, out var error), error);
        return events;
    }

    private static List<UsageEvent> Events(IEnumerable<ConsumeResult<string, byte[]>> records) => [.. records.SelectMany(EventsOf)];

    private static HashSet<string> Ids(IEnumerable<ConsumeResult<string, byte[]>> records) =>
        Events(records).Select(e => $"{e.Tenant}/{e.Id}").ToHashSet();

    [Fact]
    public async Task Emitted_events_reach_the_topic_keyed_by_tenant_with_the_callers_trace()
    {
        using var listener = new ActivityListener { ShouldListenTo = _ => true, Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData };
        ActivitySource.AddActivityListener(listener);
        using var caller = new ActivitySource("tests").StartActivity("inference request")!;

        await using (var emitter = new UsageEmitter(Options()))
        {
            for (var i = 0; i < 500; i++) await emitter.EmitAsync(Usage(i % 2 == 0 ? "tenant-a" : "tenant-b", i));
            await emitter.FlushAsync();
            Assert.Equal(0, emitter.Pending);
        }

        var records = ReadTopic(500);
        Assert.Equal(500, Events(records).Count);
        Assert.Equal(500, Ids(records).Count);
        // Batched: a record per tenant of each flush, far fewer than the events.
        Assert.InRange(records.Count, 2, 100);
        Assert.All(records, r => Assert.All(EventsOf(r), e => Assert.Equal(r.Message.Key, e.Tenant)));
        Assert.Equal(2, records.Select(r => r.Partition.Value).Distinct().Count()); // one partition per tenant
        var traceparent = Encoding.ASCII.GetString(records[0].Message.Headers.GetLastBytes("traceparent"));
        Assert.Contains(caller.TraceId.ToHexString(), traceparent);
    }

    [Fact]
    public async Task Senders_flushing_side_by_side_each_return_once_their_own_events_are_acknowledged()
    {
        await using var emitter = new UsageEmitter(Options());
        var senders = Enumerable.Range(0, 16).Select(s => Task.Run(async () =>
        {
            for (var round = 0; round < 5; round++)
            {
                for (var i = 0; i < 20; i++) await emitter.EmitAsync(Usage($"tenant-{s}", round * 20 + i));
                await emitter.FlushAsync();
            }
        }));
        await Task.WhenAll(senders).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(0, emitter.Pending);

        var records = ReadTopic(1600);
        Assert.Equal(1600, Ids(records).Count);
    }

    [Fact]
    public async Task Invalid_events_are_refused_by_the_rules_of_ingest_and_ids_are_assigned()
    {
        await using var emitter = new UsageEmitter(Options());
        var refused = await Assert.ThrowsAsync<InvalidUsageException>(async () =>
            await emitter.EmitAsync(Usage("tenant-a", 1) with { Quantity = 1.5m }));
        Assert.Equal("quantity", Assert.Single(refused.Errors).Field);

        var emitted = await emitter.EmitAsync(Usage("tenant-a", 2) with { Id = "" });
        Assert.Equal(32, emitted.Id.Length);
        await emitter.FlushAsync();

        Assert.Equal([$"tenant-a/{emitted.Id}"], Ids(ReadTopic(1)));
    }

    [Fact]
    public async Task WithKafka_unreachable_a_throwing_emitter_fills_its_buffer_then_throws_and_delivers_after_recovery()
    {
        await using var emitter = new UsageEmitter(Options(capacity: 10, whenFull: BufferFullBehavior.Throw));
        await Kafka.SendAsync("down");
        for (var i = 0; i < 10; i++) await emitter.EmitAsync(Usage("tenant-a", i));
        await Assert.ThrowsAsync<UsageBufferFullException>(async () => await emitter.EmitAsync(Usage("tenant-a", 10)));
        Assert.Equal(10, emitter.Pending);

        await Kafka.SendAsync("up");
        await emitter.FlushAsync().WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"tenant-a/u{i}").ToHashSet(), Ids(ReadTopic(10)));
    }

    [Fact]
    public async Task WithKafka_unreachable_a_blocking_emitter_waits_for_room_then_goes_on()
    {
        await using var emitter = new UsageEmitter(Options(capacity: 5));
        await Kafka.SendAsync("down");
        for (var i = 0; i < 5; i++) await emitter.EmitAsync(Usage("tenant-a", i));

        var sixth = emitter.EmitAsync(Usage("tenant-a", 5)).AsTask();
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.False(sixth.IsCompleted);

        await Kafka.SendAsync("up");
        await sixth.WaitAsync(TimeSpan.FromSeconds(60));
        await emitter.FlushAsync().WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(Enumerable.Range(0, 6).Select(i => $"tenant-a/u{i}").ToHashSet(), Ids(ReadTopic(6)));
    }

    [Fact]
    public async Task Failed_produce_requests_are_retried_and_every_event_arrives()
    {
        await using var emitter = new UsageEmitter(Options());
        // The next produce requests lose their connection, then are refused as not enough replicas.
        await Kafka.SendAsync("request-errors 0 3 -195");
        await Kafka.SendAsync("request-errors 0 3 19");
        for (var i = 0; i < 200; i++) await emitter.EmitAsync(Usage("tenant-a", i));
        await emitter.FlushAsync().WaitAsync(TimeSpan.FromSeconds(60));

        var records = ReadTopic(200);
        Assert.Equal(Enumerable.Range(0, 200).Select(i => $"tenant-a/u{i}").ToHashSet(), Ids(records));
    }

    [Fact]
    public async Task Disposing_whileKafka_is_unreachable_hands_back_every_undelivered_event()
    {
        var emitter = new UsageEmitter(Options() with { DisposeTimeout = TimeSpan.FromSeconds(2) });
        await Kafka.SendAsync("down");
        for (var i = 0; i < 7; i++) await emitter.EmitAsync(Usage("tenant-a", i));

        var notDelivered = await Assert.ThrowsAsync<UsageNotDeliveredException>(async () => await emitter.DisposeAsync());

        Assert.Equal(Enumerable.Range(0, 7).Select(i => $"u{i}").ToHashSet(), notDelivered.Events.Select(e => e.Id).ToHashSet());
    }
}
