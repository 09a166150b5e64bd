using System.Diagnostics.Metrics;
using Metering.Budgets.RateCards;
using Metering.Pricing;
using Metering.UsageTopic;

namespace Metering.Budgets.Usage;

/// <summary>
/// Consumes the usage topic in the <c>metering-budgets</c> group. Each batch is stored in one transaction
/// (<see cref="BudgetStore.ApplyBatchAsync"/>: receipts by (tenant, id), totals, settled reservations), then each
/// tenant's grain takes in what was new for it. Offsets are committed only after that; whatever is redelivered after a
/// crash is recognised by (tenant, id) and not counted again, and a grain that missed a batch reloads its totals.
/// Records that are not valid usage events, and any the store refuses, go to the dead-letter topic (see
/// <see cref="UsageTopicConsumer"/>). The consumer joins its group only once the rate cards are read to the end of their
/// topic, so that after a restart no usage is priced with versions it has not read yet.
/// </summary>
public sealed class UsageConsumer(IConfiguration configuration, TenantBudgetGrains grains, BudgetStore store, RateCardVersions rateCards, DeadLetterProducer deadLetters,
    TimeProvider clock, ILogger<UsageConsumer> logger)
    : UsageTopicConsumer(configuration, deadLetters, clock, logger)
{
    private static readonly Counter<long> Applied = MeteringTelemetry.Meter.CreateCounter<long>("metering.budgets.usage.applied", description: "Usage events counted in budgets");
    private static readonly Counter<long> Duplicates = MeteringTelemetry.Meter.CreateCounter<long>("metering.budgets.usage.duplicates", description: "Usage events already counted");

    protected override string GroupId { get; } = configuration["METERING_BUDGETS_GROUP_ID"] ?? "metering-budgets";

    /// <summary>
    /// Budgets is where usage must be visible at once (throttles, the budget view): a batch is gathered for 5 ms after its
    /// first record, not the default 20. Under load this changes nothing: the next batch keeps growing while one is stored.
    /// </summary>
    protected override TimeSpan BatchWindow => TimeSpan.FromMilliseconds(5);

    protected override Task UntilReadyToStoreAsync(CancellationToken ct) => rateCards.CaughtUp.WaitAsync(ct);

    protected override async Task HandleAsync(IReadOnlyList<UsageRecord> usage, CancellationToken ct)
    {
        using var span = UsageBatchSpan.Start(usage);
        // cost_usd counts usage at the rate card in effect today.
        var today = VersionInEffect.DayOf(Clock.GetUtcNow());
        var byTenant = new Dictionary<string, List<UsageIncrement>>(StringComparer.Ordinal);
        foreach (var record in usage)
        {
            if (!byTenant.TryGetValue(record.Usage.Tenant, out var increments)) byTenant[record.Usage.Tenant] = increments = [];
            increments.Add(Priced(record.Usage, today));
        }
        var stored = await store.ApplyBatchAsync([.. byTenant.Select(t => (t.Key, (IReadOnlyList<UsageIncrement>)t.Value))], ct);
        await Task.WhenAll(stored.Select(t => grains.Of(t.Tenant).Applied(t.Usage, t.Sequence, t.Previous)));
        var applied = stored.Sum(t => t.Applied.Count);
        Applied.Add(applied);
        Duplicates.Add(usage.Count - applied);
    }

    // Priced as it is made: one increment per event, not one copied with its cost.
    private UsageIncrement Priced(UsageEvent usage, DateOnly today) =>
        UsageIncrement.From(usage, rateCards.CostOf(usage.Meter, usage.Model, usage.GpuType, usage.Quantity, today));
}
