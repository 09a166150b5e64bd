using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Metering.Contracts;
using Metering.Contracts.Budgets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Metering.Emitter;

/// <summary>
/// The set of throttled tenants, kept current in memory from <c>metering.budget-status.v1</c>: every partition is read
/// from the beginning (no consumer group; the topic is compacted, so that is each tenant's latest status) and followed
/// from then on. <see cref="IsThrottled"/> is a dictionary lookup: no network call on the request path. A record it
/// cannot read (no key, not a status) is logged, counted in <c>metering.emitter.budget_status.skipped</c> and passed
/// over, leaving that tenant as it was: it never stops the set from following the topic.
/// </summary>
public sealed class ThrottledTenants : IAsyncDisposable, IDisposable
{
    private static readonly Counter<long> Skipped = UsageEmitter.Meter.CreateCounter<long>(
        "metering.emitter.budget_status.skipped", description: "Budget-status records that could not be read, passed over");

    private readonly ConcurrentDictionary<string, BudgetStatusChanged> _throttled = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _caughtUp = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _follow;
    private readonly ILogger _logger;

    public ThrottledTenants(string bootstrapServers, Action<ConsumerConfig>? configure = null, ILogger? logger = null)
    {
        _logger = logger ?? NullLogger.Instance;
        var config = new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = "metering-throttle-watch", // required by the client; never joined: partitions are assigned by hand
            EnableAutoCommit = false,
            EnablePartitionEof = true,
            FetchWaitMaxMs = 10,
        };
        configure?.Invoke(config);
        _follow = Task.Factory.StartNew(() => Follow(config, _stop.Token), _stop.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>True while the tenant's latest status is <c>throttled</c>.</summary>
    public bool IsThrottled(string tenant) => _throttled.ContainsKey(tenant);

    /// <summary>The throttled tenants and why.</summary>
    public IReadOnlyCollection<BudgetStatusChanged> Throttled => [.. _throttled.Values];

    /// <summary>Completes once every partition has been read to its end at least once.</summary>
    public Task CaughtUp => _caughtUp.Task;

    private void Follow(ConsumerConfig config, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                // Unreachable brokers are retried quietly: the set keeps its last known state meanwhile.
                // Keys as bytes too: a key the client could not decode would throw from Consume, before the record could be skipped.
                using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(config)
                    .SetLogHandler((_, _) => { })
                    .SetErrorHandler((_, _) => { })
                    .Build();
                using (var admin = new DependentAdminClientBuilder(consumer.Handle).Build())
                {
                    var partitions = admin.GetMetadata(KafkaTopics.BudgetStatus.Name, TimeSpan.FromSeconds(10)).Topics.Single().Partitions;
                    if (partitions.Count == 0) throw new KafkaException(ErrorCode.UnknownTopicOrPart);
                    consumer.Assign(partitions.Select(p => new TopicPartitionOffset(KafkaTopics.BudgetStatus.Name, p.PartitionId, Offset.Beginning)));
                }
                var atEnd = new HashSet<int>();
                var partitionCount = consumer.Assignment.Count;
                while (!stop.IsCancellationRequested)
                {
                    var record = consumer.Consume(TimeSpan.FromMilliseconds(200));
                    if (record is null) continue;
                    if (record.IsPartitionEOF)
                    {
                        atEnd.Add(record.Partition.Value);
                        if (atEnd.Count == partitionCount) _caughtUp.TrySetResult();
                        continue;
                    }
                    Apply(record);
                }
            }
            catch (Exception)
            {
                // Broker or topic not reachable (or disposing): keep the last known set and try again.
                if (stop.IsCancellationRequested) return;
                stop.WaitHandle.WaitOne(TimeSpan.FromSeconds(1));
            }
        }
    }

    private void Apply(ConsumeResult<byte[]?, byte[]?> record)
    {
        if (record.Message.Key is not { Length: > 0 } key)
        {
            Skip(record, "it has no key (the tenant)");
            return;
        }
        var tenant = Encoding.UTF8.GetString(key);
        BudgetStatusChanged? change;
        try
        {
            change = record.Message.Value is { } value ? JsonSerializer.Deserialize<BudgetStatusChanged>(value, MeteringJson.Options) : null;
        }
        catch (Exception ex)
        {
            // Reading is a pure function of the bytes: whatever they make it throw sets the record apart, not the follower.
            Skip(record, $"it is not a budget status: {ex.Message}");
            return;
        }
        // No value is a tombstone: the tenant's status was removed.
        if (change?.Status == BudgetStatuses.Throttled) _throttled[tenant] = change;
        else _throttled.TryRemove(tenant, out _);
    }

    private void Skip(ConsumeResult<byte[]?, byte[]?> record, string problem)
    {
        Skipped.Add(1);
        _logger.LogWarning("Skipped the budget-status record at {Origin}: {Problem}", record.TopicPartitionOffset, problem);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _follow.ConfigureAwait(false);
        _stop.Dispose();
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}
