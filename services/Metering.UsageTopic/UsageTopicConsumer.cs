using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Metering.UsageTopic;

/// <summary>
/// Consumes the usage topic in one consumer group and hands it over in batches. A batch's offsets are committed only
/// after <see cref="HandleAsync"/> returned, so a crash anywhere redelivers the batch; handlers make that harmless by
/// recognising each (tenant, id) they have already stored. Partitions are keyed by tenant, so one tenant's events
/// arrive in order at one instance of the group.
/// No single record can stop the group: a record that is not a valid usage event, and one that the store refuses for a
/// reason tied to its data (see <see cref="RecordFaults"/>), goes to the dead-letter topic and the partition goes on.
/// A store failure of any other kind (connection, timeout) retries the batch from the committed offsets, as before.
/// </summary>
public abstract class UsageTopicConsumer(IConfiguration configuration, DeadLetterProducer deadLetters, TimeProvider clock, ILogger logger)
    : BackgroundService
{
    private static readonly Histogram<double> StoredAfter = MeteringTelemetry.Meter.CreateHistogram<double>(
        "metering.usage.stored_after", unit: "ms", description: "From a usage record's producing to its batch being stored by the consumer group");
    private static readonly Histogram<double> StoreDuration = MeteringTelemetry.Meter.CreateHistogram<double>(
        "metering.usage.batch.store_duration", unit: "ms", description: "Time the consumer group took to store one batch");
    private static readonly Counter<long> DeadLettered = MeteringTelemetry.Meter.CreateCounter<long>(
        "metering.usage.dead_lettered", description: "Usage-topic records a consumer group did not count and sent to the dead-letter topic, by cause (invalid, refused)");
    private static readonly Counter<long> Splits = MeteringTelemetry.Meter.CreateCounter<long>(
        "metering.usage.batch.splits", description: "Batches split in two to find a record the store refused");
    private static readonly Counter<long> Lost = MeteringTelemetry.Meter.CreateCounter<long>(
        "metering.usage.lost", description: "Usage-topic records a consumer group never read because the broker no longer had them when it got there (retention, or the development broker's bound): never counted");

    private static readonly TimeSpan MetadataTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The usage topic's partitions, read once from the broker.</summary>
    private List<TopicPartition>? _partitions;

    /// <summary>True once the consumer has subscribed; read by the readiness check.</summary>
    public bool IsRunning { get; private set; }

    protected abstract string GroupId { get; }
    protected TimeProvider Clock => clock;
    protected virtual int MaxBatch => 5000;
    protected virtual TimeSpan BatchWindow => TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// A batch holding at least <see cref="BusyBatchEvents"/> when its <see cref="BatchWindow"/> ends is filling fast:
    /// it goes on gathering until this much time after its first record. Off unless a consumer sets both.
    /// </summary>
    protected virtual TimeSpan BusyBatchWindow => BatchWindow;
    protected virtual int BusyBatchEvents => int.MaxValue;

    /// <summary>
    /// A batch not stored within this time is abandoned and the consumer restarts from its committed offsets: a
    /// store stuck behind a lock or a dead connection must not stop the partition for good. A store that fails
    /// sooner (PostgreSQL refusing connections) restarts the consumer a second later; restarts are not limited.
    /// METERING_USAGE_STORE_TIMEOUT_SECONDS, 1 to 3600, default 60.
    /// </summary>
    protected TimeSpan StoreTimeout { get; } = configuration["METERING_USAGE_STORE_TIMEOUT_SECONDS"] is not { Length: > 0 } seconds
        ? TimeSpan.FromSeconds(60)
        : int.TryParse(seconds, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value) && value is >= 1 and <= 3600
            ? TimeSpan.FromSeconds(value)
            : throw new InvalidOperationException("METERING_USAGE_STORE_TIMEOUT_SECONDS must be a whole number of seconds from 1 to 3600.");

    /// <summary>
    /// How long the consumer may hold no partition before it leaves and rejoins its group. A member that lost its
    /// partitions in a rebalance and is not given any back after another member died (seen with the development broker)
    /// would otherwise sit idle while its group's partitions go unread; with nothing assigned, rejoining costs nothing.
    /// </summary>
    protected virtual TimeSpan IdleRejoin => TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long records may wait in a partition this consumer does not hold, at a committed offset that does not move,
    /// before it leaves and rejoins its group (see <see cref="UnreadPartitions"/>): longer than a living member's batch
    /// may take before it gives up (<see cref="StoreTimeout"/>) plus a session timeout and a rebalance.
    /// </summary>
    protected virtual TimeSpan UnreadRejoin => StoreTimeout + TimeSpan.FromSeconds(30);

    /// <summary>How often the consumer reads the group's progress in the partitions it does not hold.</summary>
    protected virtual TimeSpan UnreadCheck => TimeSpan.FromSeconds(10);

    /// <summary>
    /// Stores the effect of some valid records: all of them or none (one transaction), because when the store refuses
    /// a record the batch is split and its parts are stored on their own. Must be idempotent: a batch, or part of one,
    /// can be delivered again.
    /// </summary>
    protected abstract Task HandleAsync(IReadOnlyList<UsageRecord> usage, CancellationToken ct);

    /// <summary>
    /// Completes once the consumer may store usage. The consumer joins its group only then, so that until it can its
    /// partitions are read by instances that can, and it is not ready meanwhile.
    /// </summary>
    protected virtual Task UntilReadyToStoreAsync(CancellationToken ct) => Task.CompletedTask;

    /// <summary>Whether a failure of <see cref="HandleAsync"/> is tied to the data of a record, so that splitting the batch finds it.</summary>
    protected virtual bool IsTiedToRecord(Exception exception) => RecordFaults.IsTiedToRecord(exception);

    // The loop blocks in librdkafka's Consume, so it owns a thread and never awaits: a blocked thread-pool thread on a
    // 2-core machine would hold up every HTTP request of the service until the pool grows.
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Run(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Run(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                Consume(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (RejoinException ex)
            {
                IsRunning = false;
                logger.LogWarning("{Message}; rejoining group {Group}", ex.Message, GroupId);
            }
            catch (Exception ex)
            {
                // Nothing of the failed batch was committed: rejoining resumes from the last committed offsets.
                IsRunning = false;
                logger.LogError(ex, "Usage consumer {Group} failed; restarting from the last committed offsets", GroupId);
                stoppingToken.WaitHandle.WaitOne(TimeSpan.FromSeconds(1));
            }
        }
    }

    private void Consume(CancellationToken stoppingToken)
    {
        UntilReadyToStoreAsync(stoppingToken).GetAwaiter().GetResult();
        var config = new ConsumerConfig
        {
            BootstrapServers = MeteringSettings.KafkaBootstrapServers(configuration),
            GroupId = GroupId,
            ClientId = GroupId,
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            // Eager (stop-the-world) rebalancing: with cooperative-sticky the development broker was seen to leave a member
            // without partitions for good when another member died in the middle of a rebalance.
            PartitionAssignmentStrategy = PartitionAssignmentStrategy.RoundRobin,
            FetchWaitMaxMs = 10,
            // A dead instance's partitions move to the living ones after 10 s instead of Kafka's default 45 s.
            SessionTimeoutMs = 10_000,
            HeartbeatIntervalMs = 2_000,
        };
        var gaps = new OffsetGaps();
        var unread = new UnreadPartitions(UnreadRejoin);
        using var consumer = new ConsumerBuilder<string?, byte[]?>(config)
            .SetLogHandler((_, m) => logger.LogInformation("kafka: {Facility} {Message}", m.Facility, m.Message))
            .SetPartitionsAssignedHandler((_, partitions) => logger.LogInformation("{Group} assigned {Partitions}", GroupId, string.Join(",", partitions.Select(p => p.Partition.Value))))
            .SetPartitionsRevokedHandler((_, partitions) =>
            {
                gaps.Forget(partitions.Select(p => p.TopicPartition));
                logger.LogInformation("{Group} revoked {Partitions}", GroupId, string.Join(",", partitions.Select(p => p.Partition.Value)));
            })
            .SetPartitionsLostHandler((_, partitions) =>
            {
                gaps.Forget(partitions.Select(p => p.TopicPartition));
                logger.LogWarning("{Group} lost {Partitions}", GroupId, string.Join(",", partitions.Select(p => p.Partition.Value)));
            })
            .Build();
        consumer.Subscribe(KafkaTopics.Usage.Name);
        IsRunning = true;
        // Two stages: while one batch is being stored, the next is fetched and parsed, and it keeps growing until the
        // store is done, so batches adapt to the load: small and quick when it is light, large when it is heavy.
        // Batches are still stored one at a time and in order, and each one's offsets are committed only after it was stored.
        InFlight? inFlight = null;
        try
        {
            var unassignedSince = Stopwatch.GetTimestamp();
            var joined = Stopwatch.GetTimestamp();
            var nextCheck = UnreadCheck;
            while (!stoppingToken.IsCancellationRequested)
            {
                if (consumer.Assignment.Count > 0 || inFlight is not null) unassignedSince = Stopwatch.GetTimestamp();
                else if (Stopwatch.GetElapsedTime(unassignedSince) > IdleRejoin)
                    throw new RejoinException($"No partition assigned for {IdleRejoin.TotalSeconds:F0} s");
                if (Stopwatch.GetElapsedTime(joined) is var now && now >= nextCheck)
                {
                    nextCheck = now + UnreadCheck;
                    if (UnreadElsewhere(consumer, unread, now) is { Count: > 0 } partitions)
                    {
                        // What this member stored is committed first, so that rejoining redelivers nothing of it.
                        if (inFlight is { } stored)
                        {
                            inFlight = null;
                            stored.Storing.GetAwaiter().GetResult();
                            Commit(consumer, stored.Records);
                        }
                        throw new RejoinException($"Records have waited in partitions {string.Join(",", partitions)}, which this member does not hold, " +
                            $"at the same committed offset for {UnreadRejoin.TotalSeconds:F0} s: no member reads them");
                    }
                }
                inFlight = Advance(consumer, gaps, inFlight, stoppingToken);
            }
            if (inFlight is { } last)
            {
                inFlight = null;
                last.Storing.GetAwaiter().GetResult();
                Commit(consumer, last.Records);
            }
        }
        finally
        {
            IsRunning = false;
            // Never leave a batch being stored behind: the restarted consumer would store it again alongside.
            if (inFlight is { } abandoned) abandoned.Storing.ContinueWith(_ => { }, TaskScheduler.Default).Wait();
            consumer.Close();
        }
    }

    /// <summary>The batch being stored and its records, committed once it is stored.</summary>
    private sealed record InFlight(Task Storing, List<ConsumeResult<string?, byte[]?>> Records);

    /// <summary>
    /// One turn of the loop: fetches the next batch while <paramref name="inFlight"/> is stored, commits that one, and
    /// starts storing the next. A method of its own so that nothing of a batch stays on the loop's stack: there the
    /// temporaries of a turn stayed live roots and kept the last batch (up to <see cref="MaxBatch"/> records) in memory
    /// while the topic was idle (found with a heap snapshot).
    /// </summary>
    private InFlight? Advance(IConsumer<string?, byte[]?> consumer, OffsetGaps gaps, InFlight? inFlight, CancellationToken stoppingToken)
    {
        var (records, batch) = NextBatch(consumer, gaps, inFlight?.Storing, stoppingToken);
        if (inFlight is not null)
        {
            inFlight.Storing.GetAwaiter().GetResult();
            Commit(consumer, inFlight.Records);
        }
        return records.Count > 0 ? new InFlight(Task.Run(() => StoreAsync(batch, records, stoppingToken), stoppingToken), records) : null;
    }

    private async Task StoreAsync(UsageBatch batch, List<ConsumeResult<string?, byte[]?>> records, CancellationToken stoppingToken)
    {
        var started = Stopwatch.GetTimestamp();
        foreach (var rejected in batch.Rejected) await DeadLetterAsync(rejected, stoppingToken);
        if (batch.Usage.Count > 0)
        {
            var refused = new List<RejectedRecord>();
            await StoreOrSplitAsync(batch.Usage, refused, stoppingToken);
            foreach (var record in refused) await DeadLetterAsync(record, stoppingToken);
        }
        var group = new KeyValuePair<string, object?>("messaging.consumer.group.name", GroupId);
        StoreDuration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds, group);
        var stored = clock.GetUtcNow();
        foreach (var record in records)
            if (record.Message.Timestamp.Type != TimestampType.NotAvailable)
                StoredAfter.Record((stored - record.Message.Timestamp.UtcDateTime).TotalMilliseconds, group);
    }

    /// <summary>
    /// Stores the records; when the store refuses them for a reason tied to a record, stores each half on its own, and so
    /// on down to the one record it refuses, which is set apart in <paramref name="refused"/>. Halves are stored in log
    /// order, so the records around a refused one keep their order. A lone record is tried twice before it is set apart,
    /// so that a conflict that only looked like a data error (another writer's unique key) is not mistaken for one.
    /// </summary>
    private async Task StoreOrSplitAsync(IReadOnlyList<UsageRecord> usage, List<RejectedRecord> refused, CancellationToken stoppingToken)
    {
        try
        {
            await StoreWithinTimeoutAsync(usage, stoppingToken);
        }
        catch (Exception ex) when (!stoppingToken.IsCancellationRequested && IsTiedToRecord(ex))
        {
            if (usage.Count == 1)
            {
                try
                {
                    await StoreWithinTimeoutAsync(usage, stoppingToken);
                }
                catch (Exception again) when (!stoppingToken.IsCancellationRequested && IsTiedToRecord(again))
                {
                    refused.Add(usage[0].Refused(RecordFaults.Describe(again)));
                }
                return;
            }
            Splits.Add(1, new KeyValuePair<string, object?>("messaging.consumer.group.name", GroupId));
            logger.LogWarning("Group {Group}: the store refused a batch of {Count} records ({Reason}); storing each half on its own to find the record",
                GroupId, usage.Count, RecordFaults.Describe(ex));
            var half = usage.Count / 2;
            await StoreOrSplitAsync(usage.Take(half).ToList(), refused, stoppingToken);
            await StoreOrSplitAsync(usage.Skip(half).ToList(), refused, stoppingToken);
        }
    }

    private async Task StoreWithinTimeoutAsync(IReadOnlyList<UsageRecord> usage, CancellationToken stoppingToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        timeout.CancelAfter(StoreTimeout);
        try
        {
            // WaitAsync as well as the token: not every wait observes it (a grain call; Npgsql cancelling on a server that
            // hangs, whose cancel request hangs too). An abandoned store that commits later is harmless: receipts make
            // the redelivered batch count once, and a grain that missed its increments reloads its totals.
            await HandleAsync(usage, timeout.Token).WaitAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
            throw new TimeoutException($"Storing a batch of {usage.Count} records took longer than {StoreTimeout}; restarting from the committed offsets");
        }
    }

    private async Task DeadLetterAsync(RejectedRecord rejected, CancellationToken stoppingToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        timeout.CancelAfter(StoreTimeout);
        try
        {
            await deadLetters.PublishAsync(rejected, GroupId, timeout.Token);
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
            throw new TimeoutException($"Kafka did not take a dead letter within {StoreTimeout}; restarting from the committed offsets");
        }
        DeadLettered.Add(1, new KeyValuePair<string, object?>("messaging.consumer.group.name", GroupId),
            new KeyValuePair<string, object?>("dead_letter.cause", DeadLetterCauses.Name(rejected.Cause)));
        logger.LogWarning("Group {Group} dead-lettered the usage record at {Origin} with key {Key} ({Cause}): {Reason}",
            GroupId, rejected.Origin, rejected.Key, DeadLetterCauses.Name(rejected.Cause), DeadLetterProducer.Shorten(rejected.Reason));
    }

    private static void Commit(IConsumer<string?, byte[]?> consumer, List<ConsumeResult<string?, byte[]?>> records) =>
        consumer.Commit(records.GroupBy(r => r.TopicPartition)
            .Select(g => new TopicPartitionOffset(g.Key, g.Max(r => r.Offset.Value) + 1)));

    /// <summary>
    /// Gathers records for at least <see cref="BatchWindow"/> after the first one (<see cref="BusyBatchWindow"/> once
    /// the batch is filling fast), and for as long as the previous batch is still being stored, up to
    /// <see cref="MaxBatch"/> events (a usage batch v2 record holds many); decodes each one as it arrives: a v1 record's
    /// JSON, a v2 record's events.
    /// </summary>
    private (List<ConsumeResult<string?, byte[]?>> Records, UsageBatch Batch) NextBatch(IConsumer<string?, byte[]?> consumer, OffsetGaps gaps, Task? storing, CancellationToken ct)
    {
        var records = new List<ConsumeResult<string?, byte[]?>>();
        var usage = new List<UsageRecord>();
        var rejected = new List<RejectedRecord>();
        var batch = new UsageBatch(usage, rejected);
        var first = consumer.Consume(TimeSpan.FromMilliseconds(storing is null ? 500 : 5));
        if (first is null || first.IsPartitionEOF)
        {
            if (storing is null) return (records, batch);
        }
        else Add(first);

        var started = Stopwatch.GetTimestamp();
        var deadline = started + (long)(BatchWindow.TotalSeconds * Stopwatch.Frequency);
        var extended = false;
        while (batch.Count < MaxBatch && !ct.IsCancellationRequested)
        {
            var stillStoring = storing is { IsCompleted: false };
            var remaining = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline);
            if (remaining <= TimeSpan.Zero && !extended && batch.Count >= BusyBatchEvents)
            {
                extended = true;
                deadline = started + (long)(BusyBatchWindow.TotalSeconds * Stopwatch.Frequency);
                remaining = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline);
            }
            if (records.Count == 0 || remaining <= TimeSpan.Zero)
            {
                if (!stillStoring && records.Count > 0) break;
                if (!stillStoring && records.Count == 0) return (records, batch);
                remaining = TimeSpan.FromMilliseconds(5);
            }
            var next = consumer.Consume(remaining);
            if (next is null)
            {
                if (!stillStoring && records.Count > 0) break;
                continue;
            }
            if (!next.IsPartitionEOF) Add(next);
        }
        return (records, batch);

        void Add(ConsumeResult<string?, byte[]?> record)
        {
            if (!gaps.Knows(record.TopicPartition)) ExpectCommitted(consumer, gaps);
            if (gaps.Observe(record.TopicPartitionOffset) is { } gap) ReportLost(gap);
            records.Add(record);
            // Late events are judged against the time they were produced, not the time they are consumed.
            var producedAt = record.Message.Timestamp.Type == TimestampType.NotAvailable ? clock.GetUtcNow() : new DateTimeOffset(record.Message.Timestamp.UtcDateTime);
            if (record.Message.Value is { } batchValue && UsageMessages.IsBatch(record.Message.Headers, batchValue))
            {
                AddBatch(record, batchValue, producedAt);
                return;
            }
            var errors = new List<FieldError>();
            UsageEvent? parsed = null;
            try
            {
                parsed = record.Message.Value is { } value ? UsageEventJson.Read(value, producedAt, errors) : null;
            }
            catch (Exception ex)
            {
                // Reading is a pure function of the bytes: whatever a payload makes it throw (a lone surrogate in a string,
                // for one) sets that record apart instead of failing the batch again and again.
                errors.Add(new("$", $"could not be read: {ex.Message}"));
            }
            if (parsed is not null)
            {
                usage.Add(new UsageRecord(parsed, ParentOf(record), record.TopicPartitionOffset, record.Message.Key, record.Message.Value!, producedAt));
                return;
            }
            if (record.Message.Value is null) errors.Add(new("$", "the record has no value"));
            rejected.Add(new RejectedRecord(record.Message.Key, record.Message.Value ?? [], FieldError.Describe(errors), record.TopicPartitionOffset, producedAt));
        }

        // A batch that cannot be decoded is set apart whole; an event of it that breaks a v1 rule (a producer other than
        // Ingest may have written it) is set apart alone, as its v1 JSON, and its neighbours count.
        void AddBatch(ConsumeResult<string?, byte[]?> record, byte[] value, DateTimeOffset producedAt)
        {
            if (!UsageBatchEncoding.TryRead(value, out var events, out var problem))
            {
                rejected.Add(new RejectedRecord(record.Message.Key, value, problem, record.TopicPartitionOffset, producedAt));
                return;
            }
            var parent = ParentOf(record);
            var errors = new List<FieldError>();
            for (var i = 0; i < events.Count; i++)
            {
                UsageEventRules.Validate(events[i], producedAt, "", errors);
                if (errors.Count == 0)
                {
                    usage.Add(new UsageRecord(events[i], parent, record.TopicPartitionOffset, record.Message.Key, null, producedAt, i));
                    continue;
                }
                rejected.Add(new RejectedRecord(record.Message.Key, UsageEventJson.Write(events[i]), FieldError.Describe(errors), record.TopicPartitionOffset,
                    producedAt, DeadLetterCause.Invalid, i));
                errors.Clear();
            }
        }
    }

    /// <summary>
    /// The partitions this consumer does not hold whose records no member of the group has read for <see cref="UnreadRejoin"/>;
    /// none while it holds them all (a group of one), and none when the broker cannot say (only this check is lost).
    /// </summary>
    private IReadOnlyList<int> UnreadElsewhere(IConsumer<string?, byte[]?> consumer, UnreadPartitions unread, TimeSpan now)
    {
        try
        {
            var held = consumer.Assignment.Select(p => p.Partition.Value).ToHashSet();
            _partitions ??= TopicPartitions.Of(consumer.Handle, KafkaTopics.Usage.Name, MetadataTimeout);
            var notHeld = _partitions.Where(p => !held.Contains(p.Partition.Value)).ToList();
            if (notHeld.Count == 0) return [];
            var progress = consumer.Committed(notHeld, MetadataTimeout).Select(committed =>
            {
                var marks = consumer.QueryWatermarkOffsets(committed.TopicPartition, MetadataTimeout);
                return new PartitionProgress(committed.Partition.Value, committed.Offset.Value, marks.Low.Value, marks.High.Value);
            }).ToList();
            return unread.Observe(progress, now);
        }
        catch (KafkaException ex)
        {
            logger.LogDebug("Group {Group} could not read its progress in the partitions it does not hold: {Reason}", GroupId, ex.Error.Reason);
            return [];
        }
    }

    /// <summary>
    /// Learns the committed offsets of the assigned partitions not yet seen, where librdkafka started fetching them;
    /// asked on the first record of a partition rather than in the assignment callback, which must not wait on the broker.
    /// </summary>
    private void ExpectCommitted(IConsumer<string?, byte[]?> consumer, OffsetGaps gaps)
    {
        var unknown = consumer.Assignment.Where(p => !gaps.Knows(p)).ToList();
        if (unknown.Count == 0) return;
        try
        {
            foreach (var committed in consumer.Committed(unknown, TimeSpan.FromSeconds(10))) gaps.Expect(committed);
        }
        catch (KafkaException ex)
        {
            // Only this check is lost: the records themselves are read and stored as usual.
            logger.LogWarning("Group {Group} could not read its committed offsets ({Reason}); records the broker dropped before this point go unnoticed",
                GroupId, ex.Error.Reason);
        }
    }

    private void ReportLost(OffsetGap gap)
    {
        Lost.Add(gap.Count, new KeyValuePair<string, object?>("messaging.consumer.group.name", GroupId),
            new KeyValuePair<string, object?>("messaging.destination.partition.id", gap.Partition.Partition.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        logger.LogError("Group {Group} never read {Count} records of {Topic} partition {Partition} (offsets {First} to {Last}): the broker no longer had them " +
            "when the group got there and reset its offset past them. Their usage is not counted; produce it again from its source",
            GroupId, gap.Count, gap.Partition.Topic, gap.Partition.Partition.Value, gap.First, gap.Last);
    }

    private static ActivityContext ParentOf(ConsumeResult<string?, byte[]?> record) => KafkaTraceContext.ParentOf(record.Message.Headers);
}

/// <summary>The consumer leaves its group and joins it again, for the reason given.</summary>
internal sealed class RejoinException(string message) : Exception(message);
