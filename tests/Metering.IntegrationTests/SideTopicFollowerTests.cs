using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Metering.Kafka;
using Metering.ServiceDefaults;

namespace Metering.IntegrationTests;

/// <summary>
/// The one follower of side topics (<see cref="SideTopicFollower"/>), with handlers of the tests' own, on a development
/// broker of its own: records passed over, a handler that fails, committed offsets, reading from the beginning.
/// </summary>
public sealed class SideTopicFollowerTests : OwnBrokerTests
{
    // Joining a consumer group again after a failure takes the development broker several seconds.
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    /// <summary>Each value as a record keyed by itself.</summary>
    private Task ProduceAsync(string topic, params string[] values) =>
        ProduceAsync(topic, values.Select(v => ((string?)v, (byte[]?)Encoding.UTF8.GetBytes(v))).ToArray());

    private SideTopicFollowerOptions Options(string topic, string group, SideTopicStart start = SideTopicStart.CommittedOffsets) => new()
    {
        BootstrapServers = Kafka.BootstrapServers,
        Topic = topic,
        GroupId = group,
        Start = start,
        RecordName = "test record",
        RetryDelay = TimeSpan.FromMilliseconds(100),
    };

    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition() && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.True(condition(), "not reached within the patience");
    }

    [Fact]
    public async Task A_record_the_handler_passes_over_is_logged_and_counted_and_the_follower_goes_on()
    {
        var topic = KafkaTopics.UsageCorrections.Name; // no other test of this assembly follows it: the counter's figure is this test's
        long skipped = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == MeteringTelemetry.MeterName && instrument.Name == "metering.topic.records.skipped") l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
                if (tag is { Key: "messaging.destination.name", Value: string name } && name == topic) Interlocked.Add(ref skipped, value);
        });
        listener.Start();
        await ProduceAsync(topic, "a", "bad 1", "b");

        using var service = new Recording(Kafka.BootstrapServers, topic, "follower-skip-" + Guid.NewGuid().ToString("N")[..8]);
        await service.StartAsync(CancellationToken.None);
        try
        {
            // Keyed apart, the records sit in partitions of their own and are followed in no set order: the good ones being
            // handled says nothing of the bad one yet, so wait for both.
            await WaitUntil(() => service.Handled.Count == 2 && Interlocked.Read(ref skipped) >= 1);
            Assert.Equal(["a", "b"], service.Handled.Order(StringComparer.Ordinal));
            Assert.Equal(1, Interlocked.Read(ref skipped));

            // Passing a record over stopped nothing: later records, good and bad, are followed as they arrive.
            await ProduceAsync(topic, "bad 2", "c");
            await WaitUntil(() => service.Handled.Count == 3 && Interlocked.Read(ref skipped) >= 2);
            Assert.Equal(["a", "b", "c"], service.Handled.Order(StringComparer.Ordinal));
            Assert.Equal(2, Interlocked.Read(ref skipped));
        }
        finally
        {
            await service.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_failing_handler_resumes_from_the_last_committed_offset_and_what_was_committed_is_not_handled_again()
    {
        var topic = KafkaTopics.UsageDeadLetters.Name; // one partition: one order
        var group = "follower-fail-" + Guid.NewGuid().ToString("N")[..8];
        await ProduceAsync(topic, "0", "1", "boom", "3");

        var first = new FailingOnce("boom");
        using (var stop = new CancellationTokenSource())
        {
            var running = new SideTopicFollower(Options(topic, group), first).RunAsync(stop.Token);
            await WaitUntil(() => first.Handled.Contains("3"));
            await Task.Delay(500);
            await stop.CancelAsync();
            await running.WaitAsync(Patience);
        }
        // The batch that failed was not committed: it came again, and only it, in order; the loop survived the failure.
        Assert.Equal(["0", "1", "boom", "boom", "3"], first.Handled);

        // Another follower in the group starts after the last committed offset.
        await ProduceAsync(topic, "4");
        var second = new FailingOnce("none");
        using (var stop = new CancellationTokenSource())
        {
            var running = new SideTopicFollower(Options(topic, group), second).RunAsync(stop.Token);
            await WaitUntil(() => second.Handled.Count >= 1);
            await Task.Delay(500);
            await stop.CancelAsync();
            await running.WaitAsync(Patience);
        }
        Assert.Equal(["4"], second.Handled);
    }

    [Fact]
    public async Task From_the_beginning_it_catches_up_once_at_the_start_end_of_every_partition_and_reads_everything_again_after_a_failure()
    {
        var topic = KafkaTopics.BudgetStatus.Name; // twelve partitions
        var keys = Enumerable.Range(0, 24).Select(i => $"tenant-{i}").ToArray();
        await ProduceAsync(topic, keys);

        var handler = new FailingOnce("tenant-7");
        using var stop = new CancellationTokenSource();
        var running = new SideTopicFollower(Options(topic, "never-joined", SideTopicStart.Beginning), handler).RunAsync(stop.Token);
        try
        {
            await handler.CaughtUp.Task.WaitAsync(Patience);
            // Caught up only once every record there at the start was handled, whichever partition it is in.
            Assert.Subset(handler.Handled.ToHashSet(), keys.ToHashSet());
            Assert.Equal(1, handler.CaughtUpCalls);

            // The failure made it read the topic again from the beginning: the records before it came twice.
            Assert.Contains("tenant-7", handler.Handled);
            await WaitUntil(() => handler.Handled.Count(k => k == "tenant-7") == 2);

            await ProduceAsync(topic, "tenant-late");
            await WaitUntil(() => handler.Handled.Contains("tenant-late"));
            Assert.Equal(1, handler.CaughtUpCalls);
        }
        finally
        {
            await stop.CancelAsync();
            await running.WaitAsync(Patience);
        }
    }

    [Fact]
    public async Task An_empty_topic_followed_from_the_beginning_is_caught_up_at_once()
    {
        var handler = new FailingOnce("none");
        using var stop = new CancellationTokenSource();
        var running = new SideTopicFollower(Options(KafkaTopics.RateCards.Name, "never-joined", SideTopicStart.Beginning), handler).RunAsync(stop.Token);
        try
        {
            await handler.CaughtUp.Task.WaitAsync(Patience);
            Assert.Empty(handler.Handled);
        }
        finally
        {
            await stop.CancelAsync();
            await running.WaitAsync(Patience);
        }
    }

    /// <summary>Handles each record asynchronously, and throws the first time it meets the one named.</summary>
    private sealed class FailingOnce(string failOn) : ISideTopicHandler
    {
        private int _failed;
        private int _caughtUp;

        public ConcurrentQueue<string> Handled { get; } = new();
        public TaskCompletionSource CaughtUp { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int CaughtUpCalls => Volatile.Read(ref _caughtUp);

        public async Task HandleAsync(SideTopicBatch batch, CancellationToken ct)
        {
            foreach (var record in batch.Records)
            {
                await Task.Yield();
                var value = Encoding.UTF8.GetString(record.Message.Value!);
                Handled.Enqueue(value);
                if (value == failOn && Interlocked.Exchange(ref _failed, 1) == 0) throw new InvalidOperationException("the handler failed");
            }
        }

        public void OnCaughtUp()
        {
            Interlocked.Increment(ref _caughtUp);
            CaughtUp.TrySetResult();
        }
    }

    /// <summary>A service's follower as the services host theirs, passing over every record whose value starts with "bad".</summary>
    private sealed class Recording(string bootstrapServers, string topic, string group) : SideTopicService(
        new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [MeteringSettings.KafkaVariable] = bootstrapServers }).Build(),
        NullLogger.Instance)
    {
        protected override string Topic => topic;
        protected override string GroupId => group;
        protected override string RecordName => "test record";

        public ConcurrentQueue<string> Handled { get; } = new();

        public override async Task HandleAsync(SideTopicBatch batch, CancellationToken ct)
        {
            foreach (var record in batch.Records)
            {
                await Task.Delay(1, ct);
                var value = Encoding.UTF8.GetString(record.Message.Value!);
                if (value.StartsWith("bad", StringComparison.Ordinal)) batch.Skip(record, "it is bad");
                else Handled.Enqueue(value);
            }
        }
    }
}
