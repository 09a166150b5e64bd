using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Metering.Contracts;
using Metering.Contracts.Budgets;
using Metering.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Metering.Emitter;

/// <summary>
/// The set of throttled tenants, kept current in memory from <c>metering.budget-status.v1</c>: every partition is read
/// from the beginning (no consumer group; the topic is compacted, so that is each tenant's latest status) and followed
/// from then on. <see cref="IsThrottled"/> is a dictionary lookup: no network call on the request path. A record it
/// cannot read (no key, not a status) is logged, counted in <c>metering.emitter.budget_status.skipped</c> and passed
/// over, leaving that tenant as it was: it never stops the set from following the topic (a <see cref="SideTopicFollower"/>).
/// </summary>
public sealed class ThrottledTenants : ISideTopicHandler, IAsyncDisposable, IDisposable
{
    private static readonly Counter<long> Skipped = UsageEmitter.Meter.CreateCounter<long>(
        "metering.emitter.budget_status.skipped", description: "Budget-status records that could not be read, passed over");

    private readonly ConcurrentDictionary<string, BudgetStatusChanged> _throttled = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _caughtUp = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _follow;

    public ThrottledTenants(string bootstrapServers, Action<ConsumerConfig>? configure = null, ILogger? logger = null)
    {
        var follower = new SideTopicFollower(new SideTopicFollowerOptions
        {
            BootstrapServers = bootstrapServers,
            Topic = KafkaTopics.BudgetStatus.Name,
            GroupId = "metering-throttle-watch",
            Start = SideTopicStart.Beginning,
            RecordName = "budget-status record",
            IdlePoll = TimeSpan.FromMilliseconds(10),
            RecordSkipped = _ => Skipped.Add(1),
            ConfigureConsumer = config =>
            {
                config.FetchWaitMaxMs = 10;
                configure?.Invoke(config);
            },
            // Unreachable brokers are retried: the set keeps its last known state meanwhile.
            Logger = logger ?? NullLogger.Instance,
        }, this);
        _follow = Task.Run(() => follower.RunAsync(_stop.Token));
    }

    /// <summary>True while the tenant's latest status is <c>throttled</c>.</summary>
    public bool IsThrottled(string tenant) => _throttled.ContainsKey(tenant);

    /// <summary>The throttled tenants and why.</summary>
    public IReadOnlyCollection<BudgetStatusChanged> Throttled => [.. _throttled.Values];

    /// <summary>Completes once every partition has been read to where it ended when the set connected.</summary>
    public Task CaughtUp => _caughtUp.Task;

    void ISideTopicHandler.OnCaughtUp() => _caughtUp.TrySetResult();

    Task ISideTopicHandler.HandleAsync(SideTopicBatch batch, CancellationToken ct)
    {
        foreach (var record in batch.Records) Apply(batch, record);
        return Task.CompletedTask;
    }

    private void Apply(SideTopicBatch batch, ConsumeResult<byte[]?, byte[]?> record)
    {
        if (record.Message.Key is not { Length: > 0 } key)
        {
            batch.Skip(record, "it has no key (the tenant)");
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
            batch.Skip(record, $"it is not a budget status: {ex.Message}");
            return;
        }
        // No value is a tombstone: the tenant's status was removed.
        if (change?.Status == BudgetStatuses.Throttled) _throttled[tenant] = change;
        else _throttled.TryRemove(tenant, out _);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _follow.ConfigureAwait(false);
        _stop.Dispose();
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}
