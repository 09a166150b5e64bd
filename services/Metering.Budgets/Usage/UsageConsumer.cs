using System.Diagnostics;
using System.Diagnostics.Metrics;
using Metering.Budgets.Tracking;
using Metering.Contracts.Usage;
using Metering.ServiceDefaults;
using Metering.UsageTopic;

namespace Metering.Budgets.Usage;

/// <summary>
/// Consumes the usage topic in the <c>metering-budgets</c> group and hands each tenant's events to its grain.
/// Offsets are committed only after every grain of a batch has stored its effect; whatever is redelivered after a
/// crash is recognised by (tenant, id) and not counted again.
/// </summary>
public sealed class UsageConsumer(IConfiguration configuration, IGrainFactory grains, TimeProvider clock, ILogger<UsageConsumer> logger)
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

        var counts = await Task.WhenAll(batch.Usage.GroupBy(r => r.Usage.Tenant, StringComparer.Ordinal)
            .Select(tenant => ApplyTenantAsync(tenant.Key, tenant.ToList())));
        var applied = counts.Sum();
        Applied.Add(applied);
        Duplicates.Add(batch.Usage.Count - applied);
    }

    /// <summary>One consumer span per event, child of the span that produced it, so a trace runs from the emitter to here.</summary>
    private async Task<int> ApplyTenantAsync(string tenant, List<UsageRecord> records)
    {
        var activities = records
            .Select(r => MeteringTelemetry.Source.StartActivity("usage apply budgets", ActivityKind.Consumer, r.Parent))
            .OfType<Activity>()
            .ToList();
        try
        {
            foreach (var activity in activities) activity.SetTag("metering.tenant", tenant);
            return await grains.GetGrain<ITenantBudgetGrain>(tenant).ApplyUsage(records.Select(r => UsageIncrement.From(r.Usage)).ToList());
        }
        finally
        {
            foreach (var activity in activities) activity.Dispose();
        }
    }
}
