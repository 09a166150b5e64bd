using System.Diagnostics;
using System.Diagnostics.Metrics;
using Confluent.Kafka;
using Metering.Budgets.Tracking;
using Metering.Contracts;
using Metering.Contracts.Usage;
using Metering.ServiceDefaults;

namespace Metering.Budgets.Usage;

/// <summary>
/// Consumes the usage topic in the <c>metering-budgets</c> group and hands each tenant's events to its grain.
/// Offsets are committed only after every grain of a batch has stored its effect; whatever is redelivered after a
/// crash is recognised by (tenant, id) and not counted again.
/// </summary>
public sealed class UsageConsumer(IConfiguration configuration, IGrainFactory grains, TimeProvider clock, ILogger<UsageConsumer> logger)
    : BackgroundService
{
    public const string GroupId = "metering-budgets";
    private const int MaxBatch = 5000;
    private static readonly TimeSpan BatchWindow = TimeSpan.FromMilliseconds(20);
    private static readonly Counter<long> Applied = MeteringTelemetry.Meter.CreateCounter<long>("metering.budgets.usage.applied", description: "Usage events counted in budgets");
    private static readonly Counter<long> Duplicates = MeteringTelemetry.Meter.CreateCounter<long>("metering.budgets.usage.duplicates", description: "Usage events already counted");
    private static readonly Counter<long> Invalid = MeteringTelemetry.Meter.CreateCounter<long>("metering.budgets.usage.invalid", description: "Usage messages that break the v1 rules");

    /// <summary>True once the consumer has joined its group; read by the readiness check.</summary>
    public bool IsRunning { get; private set; }

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
                logger.LogError(ex, "Usage consumer failed; restarting from the last committed offsets");
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
            }
        }
    }

    private async Task ConsumeAsync(CancellationToken stoppingToken)
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = MeteringSettings.KafkaBootstrapServers(configuration),
            GroupId = configuration["METERING_BUDGETS_GROUP_ID"] ?? GroupId,
            ClientId = "metering-budgets",
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky,
        };
        using var consumer = new ConsumerBuilder<string, byte[]>(config)
            .SetLogHandler((_, m) => logger.LogInformation("kafka: {Facility} {Message}", m.Facility, m.Message))
            .Build();
        consumer.Subscribe(KafkaTopics.Usage.Name);
        IsRunning = true;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var batch = NextBatch(consumer, stoppingToken);
                if (batch.Count == 0) continue;
                await ApplyAsync(batch);
                consumer.Commit(batch.GroupBy(r => r.TopicPartition)
                    .Select(g => new TopicPartitionOffset(g.Key, g.Max(r => r.Offset.Value) + 1)));
            }
        }
        finally
        {
            IsRunning = false;
            consumer.Close();
        }
    }

    private static List<ConsumeResult<string, byte[]>> NextBatch(IConsumer<string, byte[]> consumer, CancellationToken ct)
    {
        var batch = new List<ConsumeResult<string, byte[]>>();
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

    private async Task ApplyAsync(List<ConsumeResult<string, byte[]>> batch)
    {
        var now = clock.GetUtcNow();
        var byTenant = new Dictionary<string, List<(UsageIncrement Increment, ActivityContext Parent)>>(StringComparer.Ordinal);
        foreach (var record in batch)
        {
            var errors = new List<FieldError>();
            // Late events are judged against the time they were produced, not the time they are consumed.
            var producedAt = record.Message.Timestamp.Type == TimestampType.NotAvailable ? now : new DateTimeOffset(record.Message.Timestamp.UtcDateTime);
            var usage = UsageEventJson.Read(record.Message.Value, producedAt, errors);
            if (usage is null)
            {
                // Billing dead-letters bad records; Budgets only skips and counts them.
                Invalid.Add(1);
                logger.LogWarning("Skipping invalid usage message at {Offset}: {Errors}", record.TopicPartitionOffset,
                    FieldError.Describe(errors));
                continue;
            }
            if (!byTenant.TryGetValue(usage.Tenant, out var list)) byTenant[usage.Tenant] = list = [];
            list.Add((UsageIncrement.From(usage), ParentOf(record)));
        }

        var counts = await Task.WhenAll(byTenant.Select(t => ApplyTenantAsync(t.Key, t.Value)));
        var applied = counts.Sum();
        Applied.Add(applied);
        Duplicates.Add(byTenant.Values.Sum(l => l.Count) - applied);
    }

    /// <summary>One consumer span per event, child of the span that produced it, so a trace runs from the emitter to here.</summary>
    private async Task<int> ApplyTenantAsync(string tenant, List<(UsageIncrement Increment, ActivityContext Parent)> events)
    {
        var activities = events
            .Select(e => MeteringTelemetry.Source.StartActivity("usage apply budgets", ActivityKind.Consumer, e.Parent))
            .OfType<Activity>()
            .ToList();
        try
        {
            foreach (var activity in activities) activity.SetTag("metering.tenant", tenant);
            return await grains.GetGrain<ITenantBudgetGrain>(tenant).ApplyUsage(events.Select(e => e.Increment).ToList());
        }
        finally
        {
            foreach (var activity in activities) activity.Dispose();
        }
    }

    private static ActivityContext ParentOf(ConsumeResult<string, byte[]> record) =>
        record.Message.Headers?.TryGetLastBytes("traceparent", out var bytes) == true &&
        ActivityContext.TryParse(System.Text.Encoding.ASCII.GetString(bytes), null, out var parent)
            ? parent
            : default;
}
