using System.Diagnostics.Metrics;

namespace Metering.Budgets.Diagnostics;

/// <summary>
/// Budgets' own metrics for the dashboard. A grain that is not <c>ok</c> stays active until its period resets, so the
/// throttled tenants of the cluster are the sum of every silo's gauge.
/// </summary>
public static class BudgetMetrics
{
    private static int _throttled;

    private static readonly ObservableGauge<int> ThrottledGauge = MeteringTelemetry.Meter.CreateObservableGauge<int>(
        "metering.budgets.tenants.throttled", () => Volatile.Read(ref _throttled), description: "Throttled tenants whose budget grain is active in this silo");

    private static readonly Counter<double> Spend = MeteringTelemetry.Meter.CreateCounter<double>(
        "metering.budgets.usage.cost_usd", description: "Cost of the usage counted in budgets, at the rate card in effect (an estimate for dashboards; invoices are exact)");

    /// <summary>A grain's status went from <paramref name="before"/> (null: it was not active) to <paramref name="after"/> (null: deactivated).</summary>
    public static void StatusChanged(string? before, string? after)
    {
        if (before == BudgetStatuses.Throttled && after != BudgetStatuses.Throttled) Interlocked.Decrement(ref _throttled);
        if (after == BudgetStatuses.Throttled && before != BudgetStatuses.Throttled) Interlocked.Increment(ref _throttled);
    }

    public static void Spent(string tenant, decimal cost)
    {
        if (cost != 0) Spend.Add((double)cost, new KeyValuePair<string, object?>("tenant", tenant));
    }
}
