using System.Diagnostics;
using Confluent.Kafka;
using Metering.Contracts;
using Metering.Contracts.Usage;
using Metering.ServiceDefaults;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Metering.UsageTopic;

/// <summary>
/// Consumes the usage topic in one consumer group and hands it over in batches. A batch's offsets are committed only
/// after <see cref="HandleAsync"/> returned, so a crash anywhere redelivers the batch; handlers make that harmless by
/// recognising each (tenant, id) they have already stored. Partitions are keyed by tenant, so one tenant's events
/// arrive in order at one instance of the group.
/// </summary>
public abstract class UsageTopicConsumer(IConfiguration configuration, TimeProvider clock, ILogger logger) : BackgroundService
{
    /// <summary>True once the consumer has subscribed; read by the readiness check.</summary>
    public bool IsRunning { get; private set; }

    protected abstract string GroupId { get; }
    protected virtual int MaxBatch => 5000;
    protected virtual TimeSpan BatchWindow => TimeSpan.FromMilliseconds(20);

    /// <summary>Stores the effect of a batch. Must be idempotent: a batch, or part of one, can be delivered again.</summary>
    protected abstract Task HandleAsync(UsageBatch batch, CancellationToken ct);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => RunAsync(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();

    private async Task RunAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ConsumeAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // Nothing of the failed batch was committed: rejoining resumes from the last committed offsets.
                IsRunning = false;
                logger.LogError(ex, "Usage consumer {Group} failed; restarting from the last committed offsets", GroupId);
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
            }
        }
    }

    private async Task ConsumeAsync(CancellationToken stoppingToken)
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = MeteringSettings.KafkaBootstrapServers(configuration),
            GroupId = GroupId,
            ClientId = GroupId,
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky,
            FetchWaitMaxMs = 10,
            // A dead instance's partitions move to the living ones after 10 s instead of Kafka's default 45 s.
            SessionTimeoutMs = 10_000,
            HeartbeatIntervalMs = 2_000,
        };
        using var consumer = new ConsumerBuilder<string?, byte[]?>(config)
            .SetLogHandler((_, m) => logger.LogInformation("kafka: {Facility} {Message}", m.Facility, m.Message))
            .Build();
        consumer.Subscribe(KafkaTopics.Usage.Name);
        IsRunning = true;
        // Two stages: while one batch is being stored, the next is fetched and parsed. Batches are still stored one
        // at a time and in order, and each one's offsets are committed only after it was stored.
        (Task Handling, List<ConsumeResult<string?, byte[]?>> Records)? inFlight = null;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var records = NextBatch(consumer, stoppingToken);
                var batch = records.Count == 0 ? null : Parse(records);
                if (inFlight is { } previous)
                {
                    await previous.Handling;
                    Commit(consumer, previous.Records);
                    inFlight = null;
                }
                if (batch is not null) inFlight = (Task.Run(() => HandleAsync(batch, stoppingToken), stoppingToken), records);
            }
            if (inFlight is { } last)
            {
                inFlight = null;
                await last.Handling;
                Commit(consumer, last.Records);
            }
        }
        finally
        {
            IsRunning = false;
            // Never leave a batch being stored behind: the restarted consumer would store it again alongside.
            if (inFlight is { } abandoned) await abandoned.Handling.ContinueWith(_ => { }, TaskScheduler.Default);
            consumer.Close();
        }
    }

    private static void Commit(IConsumer<string?, byte[]?> consumer, List<ConsumeResult<string?, byte[]?>> records) =>
        consumer.Commit(records.GroupBy(r => r.TopicPartition)
            .Select(g => new TopicPartitionOffset(g.Key, g.Max(r => r.Offset.Value) + 1)));

    private List<ConsumeResult<string?, byte[]?>> NextBatch(IConsumer<string?, byte[]?> consumer, CancellationToken ct)
    {
        var batch = new List<ConsumeResult<string?, byte[]?>>();
        var first = consumer.Consume(TimeSpan.FromMilliseconds(500));
        if (first is null || first.IsPartitionEOF) return batch;
        batch.Add(first);
        var deadline = Stopwatch.GetTimestamp() + (long)(BatchWindow.TotalSeconds * Stopwatch.Frequency);
        while (batch.Count < MaxBatch && !ct.IsCancellationRequested)
        {
            var remaining = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline);
            if (remaining <= TimeSpan.Zero) break;
            var next = consumer.Consume(remaining);
            if (next is null) break;
            if (!next.IsPartitionEOF) batch.Add(next);
        }
        return batch;
    }

    private UsageBatch Parse(List<ConsumeResult<string?, byte[]?>> records)
    {
        var now = clock.GetUtcNow();
        var usage = new List<UsageRecord>(records.Count);
        var rejected = new List<RejectedRecord>();
        foreach (var record in records)
        {
            // Late events are judged against the time they were produced, not the time they are consumed.
            var producedAt = record.Message.Timestamp.Type == TimestampType.NotAvailable ? now : new DateTimeOffset(record.Message.Timestamp.UtcDateTime);
            var errors = new List<FieldError>();
            var parsed = record.Message.Value is { } value ? UsageEventJson.Read(value, producedAt, errors) : null;
            if (parsed is not null)
            {
                usage.Add(new UsageRecord(parsed, ParentOf(record), record.TopicPartitionOffset));
                continue;
            }
            if (record.Message.Value is null) errors.Add(new("$", "the record has no value"));
            rejected.Add(new RejectedRecord(record.Message.Key, record.Message.Value ?? [], FieldError.Describe(errors), record.TopicPartitionOffset, producedAt));
        }
        return new UsageBatch(usage, rejected);
    }

    private static ActivityContext ParentOf(ConsumeResult<string?, byte[]?> record) =>
        record.Message.Headers?.TryGetLastBytes("traceparent", out var bytes) == true &&
        ActivityContext.TryParse(System.Text.Encoding.ASCII.GetString(bytes), null, out var parent)
            ? parent
            : default;
}
