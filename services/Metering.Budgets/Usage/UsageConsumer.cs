using System.Diagnostics;
using System.Diagnostics.Metrics;
using Metering.Budgets.Pricing;
using Metering.Budgets.Tracking;
using Metering.Contracts.Usage;
using Metering.ServiceDefaults;
using Metering.UsageTopic;

namespace Metering.Budgets.Usage;

/// <summary>
/// Consumes the usage topic in the <c>metering-budgets</c> group. Each batch is stored in one transaction
/// (<see cref="BudgetStore.ApplyBatchAsync"/>: receipts by (tenant, id), totals, settled reservations), then each
/// tenant's grain takes in what was new for it. Offsets are committed only after that; whatever is redelivered after a
/// crash is recognised by (tenant, id) and not counted again, and a grain that missed a batch reloads its totals.
/// </summary>
public sealed class UsageConsumer(IConfiguration configuration, IGrainFactory grains, BudgetStore store, RateCards rateCards, TimeProvider clock,
    ILogger<UsageConsumer> logger)
    : UsageTopicConsumer(configuration, clock, logger)
{
    private static readonly Counter<long> Applied = MeteringTelemetry.Meter.CreateCounter<long>("metering.budgets.usage.applied", description: "Usage events counted in budgets");
    private static readonly Counter<long> Duplicates = MeteringTelemetry.Meter.CreateCounter<long>("metering.budgets.usage.duplicates", description: "Usage events already counted");
    private static readonly Counter<long> Invalid = MeteringTelemetry.Meter.CreateCounter<long>("metering.budgets.usage.invalid", description: "Usage messages that break the v1 rules");

    protected override string GroupId { get; } = configuration["METERING_BUDGETS_GROUP_ID"] ?? "metering-budgets";

    protected override async Task HandleAsync(UsageBatch batch, CancellationToken ct)
    {
        foreach (var rejected in batch.Rejected)
        {
            // Billing dead-letters bad records; Budgets only skips and counts them.
            Invalid.Add(1);
            logger.LogWarning("Skipping invalid usage message at {Origin}: {Reason}", rejected.Origin, rejected.Reason);
        }
        if (batch.Usage.Count == 0) return;

        // One consumer span per event, child of the span that produced it, so a trace runs from the emitter to here.
        var activities = batch.Usage
            .Select(r => (Activity: MeteringTelemetry.Source.StartActivity("usage apply budgets", ActivityKind.Consumer, r.Parent), r.Usage.Tenant))
            .Where(a => a.Activity is not null)
            .ToList();
        try
        {
            foreach (var (activity, tenant) in activities) activity!.SetTag("metering.tenant", tenant);
            // cost_usd counts usage at the rate card in effect today.
            var today = DateOnly.FromDateTime(Clock.GetUtcNow().UtcDateTime);
            var tenants = batch.Usage.GroupBy(r => r.Usage.Tenant, StringComparer.Ordinal)
                .Select(g => (g.Key, (IReadOnlyList<UsageIncrement>)g.Select(r => Priced(UsageIncrement.From(r.Usage), today)).ToList()))
                .ToList();
            var stored = await store.ApplyBatchAsync(tenants, ct);
            await Task.WhenAll(stored.Select(t => grains.GetGrain<ITenantBudgetGrain>(t.Tenant).Applied(t.Applied, t.Sequence, t.Previous)));
            var applied = stored.Sum(t => t.Applied.Count);
            Applied.Add(applied);
            Duplicates.Add(batch.Usage.Count - applied);
        }
        finally
        {
            foreach (var (activity, _) in activities) activity!.Dispose();
        }
    }

    private UsageIncrement Priced(UsageIncrement increment, DateOnly today) =>
        increment with { Cost = rateCards.CostOf(increment.Meter, increment.Model, increment.GpuType, increment.Quantity, today) };
}
