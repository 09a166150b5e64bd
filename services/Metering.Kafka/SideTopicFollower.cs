using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Metering.Kafka;

/// <summary>Where a <see cref="SideTopicFollower"/> begins reading each time it connects.</summary>
public enum SideTopicStart
{
    /// <summary>
    /// From its consumer group's committed offsets (the topic's beginning when the group has none); a batch's offsets
    /// are committed once the handler returned, so a failure anywhere redelivers it.
    /// </summary>
    CommittedOffsets,

    /// <summary>
    /// Every partition from its beginning, in no group, committing nothing: each instance needs the whole topic (of a
    /// compacted one, each key's latest record).
    /// </summary>
    Beginning,
}

public sealed record SideTopicFollowerOptions
{
    public required string BootstrapServers { get; init; }
    public required string Topic { get; init; }

    /// <summary>The consumer group; with <see cref="SideTopicStart.Beginning"/> only required by the client, never joined.</summary>
    public required string GroupId { get; init; }

    public SideTopicStart Start { get; init; } = SideTopicStart.CommittedOffsets;

    /// <summary>What one record is, for log lines: "rate-card record".</summary>
    public required string RecordName { get; init; }

    /// <summary>At most this many records per call of the handler; fewer when no more have arrived.</summary>
    public int MaxBatch { get; init; } = 1;

    /// <summary>
    /// How long one wait for a record blocks at most before the follower looks whether it was stopped: a record ends the
    /// wait at once, so this bounds only how soon a stop is noticed (librdkafka's <c>cancellation.delay.max.ms</c>).
    /// </summary>
    public TimeSpan IdlePoll { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How long it waits after a failure before it connects again.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Counts a record passed over, by topic (the services' <c>metering.topic.records.skipped</c>).</summary>
    public Action<string>? RecordSkipped { get; init; }

    /// <summary>Last word on the consumer configuration.</summary>
    public Action<ConsumerConfig>? ConfigureConsumer { get; init; }

    public ILogger Logger { get; init; } = NullLogger.Instance;
}

/// <summary>What a side topic's records change: one per follower.</summary>
public interface ISideTopicHandler
{
    /// <summary>
    /// Applies the records in log order. One it cannot read or apply it passes over with
    /// <see cref="SideTopicBatch.Skip"/>, and the batch goes on. Throwing abandons the batch: the follower connects again
    /// after <see cref="SideTopicFollowerOptions.RetryDelay"/> and resumes from the last committed offsets, or reads
    /// from the beginning again; so applying a record twice must be harmless.
    /// </summary>
    Task HandleAsync(SideTopicBatch batch, CancellationToken ct);

    /// <summary>
    /// Called once, with <see cref="SideTopicStart.Beginning"/>, when every partition has been read up to where it ended
    /// when the follower connected (a topic that was empty: at once).
    /// </summary>
    void OnCaughtUp() { }
}

/// <summary>Records for <see cref="ISideTopicHandler.HandleAsync"/>, in log order, and the way to pass one over.</summary>
public sealed class SideTopicBatch
{
    private readonly SideTopicFollower _follower;

    internal SideTopicBatch(IReadOnlyList<ConsumeResult<byte[]?, byte[]?>> records, SideTopicFollower follower)
    {
        Records = records;
        _follower = follower;
    }

    public IReadOnlyList<ConsumeResult<byte[]?, byte[]?>> Records { get; }

    /// <summary>Passes the record over: logged with why and where it is, and counted.</summary>
    public void Skip(ConsumeResult<byte[]?, byte[]?> record, string problem) => _follower.Skip(record, problem);
}

/// <summary>
/// Follows a side topic (any topic but usage, which <c>UsageTopicConsumer</c> reads) and hands its records to one
/// handler, for as long as it runs: a broker away, a record the handler cannot apply or a handler failure never stops
/// it. The loop owns a thread and blocks in librdkafka until a record arrives (it polled every 20 ms before: ~1 % of a
/// core per service with nothing to read), so it never holds up one of the thread pool's threads.
/// </summary>
public sealed class SideTopicFollower(SideTopicFollowerOptions options, ISideTopicHandler handler)
{
    private static readonly TimeSpan MetadataTimeout = TimeSpan.FromSeconds(10);
    private readonly ILogger _logger = options.Logger;
    private int _caughtUp;

    /// <summary>Follows the topic until <paramref name="stop"/> fires.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await FollowAsync(stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                _logger.LogWarning(ex, "Following {Topic} failed; {Resuming}", options.Topic,
                    options.Start == SideTopicStart.CommittedOffsets ? "resuming from the last committed offset" : "reading it again from the beginning");
                try
                {
                    await Task.Delay(options.RetryDelay, stop);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task FollowAsync(CancellationToken stop)
    {
        // Connecting blocks in librdkafka (metadata and watermarks, up to 10 s each while the broker is away): on a
        // thread of its own rather than one of the pool's, and abandoned (then disposed) when the follower stops.
        var connecting = Task.Factory.StartNew(Connect, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        Connection connection;
        try
        {
            connection = await connecting.WaitAsync(stop);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            _ = connecting.ContinueWith(c => c.Result.Dispose(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
            throw;
        }
        using (connection)
            await Task.Factory.StartNew(() => Follow(connection, stop), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    private void Follow(Connection connection, CancellationToken stop)
    {
        var batch = new List<ConsumeResult<byte[]?, byte[]?>>();
        while (!stop.IsCancellationRequested)
        {
            // Blocks until a record (or a partition's end) arrives; once one has, takes only what is already there, so a
            // batch is what arrived together and is handled without waiting for more.
            var record = batch.Count == 0 ? connection.Consumer.Consume(stop) : connection.Consumer.Consume(TimeSpan.Zero);
            if (record is { IsPartitionEOF: false })
            {
                batch.Add(record);
                if (batch.Count < options.MaxBatch) continue;
            }
            if (batch.Count > 0)
            {
                Handle(connection, batch, stop);
                batch = [];
            }
            if (record is { IsPartitionEOF: true }) connection.ReachedEnd(record.TopicPartition);
        }
    }

    // On the follower's own thread, so waiting for the handler blocks no thread of the pool.
    private void Handle(Connection connection, List<ConsumeResult<byte[]?, byte[]?>> batch, CancellationToken stop)
    {
        handler.HandleAsync(new SideTopicBatch(batch, this), stop).GetAwaiter().GetResult();
        if (options.Start == SideTopicStart.CommittedOffsets)
            connection.Consumer.Commit(batch.GroupBy(r => r.TopicPartition).Select(g => new TopicPartitionOffset(g.Key, g.Max(r => r.Offset.Value) + 1)));
        foreach (var record in batch) connection.Passed(record);
    }

    internal void Skip(ConsumeResult<byte[]?, byte[]?> record, string problem)
    {
        options.RecordSkipped?.Invoke(options.Topic);
        _logger.LogWarning("Skipped the {Record} at {Origin}: {Problem}", options.RecordName, record.TopicPartitionOffset, problem);
    }

    private void CaughtUp()
    {
        if (Interlocked.Exchange(ref _caughtUp, 1) == 0) handler.OnCaughtUp();
    }

    private Connection Connect()
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = options.BootstrapServers,
            GroupId = options.GroupId,
            EnableAutoCommit = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            SessionTimeoutMs = 10_000,
            EnablePartitionEof = options.Start == SideTopicStart.Beginning,
            CancellationDelayMaxMs = (int)Math.Max(1, options.IdlePoll.TotalMilliseconds),
        };
        options.ConfigureConsumer?.Invoke(config);
        var consumer = new ConsumerBuilder<byte[]?, byte[]?>(config)
            .SetLogHandler((_, m) => _logger.LogDebug("kafka: {Facility} {Message}", m.Facility, m.Message))
            .SetErrorHandler((_, e) => _logger.LogDebug("kafka: {Reason}", e.Reason))
            .Build();
        try
        {
            if (options.Start == SideTopicStart.CommittedOffsets)
            {
                consumer.Subscribe(options.Topic);
                return new Connection(consumer, this, []);
            }
            var partitions = TopicPartitions.Of(consumer.Handle, options.Topic, MetadataTimeout);
            // The ends to reach before the follower has caught up: where each partition ended when it (re)connected.
            var ends = new Dictionary<TopicPartition, long>();
            if (Volatile.Read(ref _caughtUp) == 0)
                foreach (var partition in partitions)
                    if (consumer.QueryWatermarkOffsets(partition, MetadataTimeout) is var marks && marks.Low < marks.High)
                        ends[partition] = marks.High.Value;
            consumer.Assign(partitions.Select(p => new TopicPartitionOffset(p, Offset.Beginning)));
            if (ends.Count == 0) CaughtUp();
            return new Connection(consumer, this, ends);
        }
        catch
        {
            consumer.Dispose();
            throw;
        }
    }

    /// <summary>One connection's consumer, and what is left to read of the topic before the follower has caught up.</summary>
    private sealed class Connection(IConsumer<byte[]?, byte[]?> consumer, SideTopicFollower follower, Dictionary<TopicPartition, long> ends) : IDisposable
    {
        public IConsumer<byte[]?, byte[]?> Consumer => consumer;

        public void Passed(ConsumeResult<byte[]?, byte[]?> record)
        {
            if (ends.TryGetValue(record.TopicPartition, out var end) && record.Offset.Value + 1 >= end) ReachedEnd(record.TopicPartition);
        }

        public void ReachedEnd(TopicPartition partition)
        {
            if (ends.Remove(partition) && ends.Count == 0) follower.CaughtUp();
        }

        public void Dispose() => consumer.Dispose();
    }
}
