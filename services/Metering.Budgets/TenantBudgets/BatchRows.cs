using Metering.UsageTopic;

namespace Metering.Budgets.TenantBudgets;

/// <summary>
/// A consumer batch as the columns of <see cref="BudgetStore.ApplyBatchAsync"/>'s one statement: a receipt key per
/// increment (<see cref="UsageKey"/> of (tenant, id); the same id twice for a tenant keeps the first), the period totals
/// each one adds, the reservations they settle, and the batch's tenants. Receipts go in key order and tenants in
/// ordinal order, so that batches touching the same rows lock them in one order and never deadlock.
/// </summary>
internal sealed class BatchRows
{
    private readonly (Guid Key, string Tenant, UsageIncrement Increment)[] _increments;

    public Guid[] Keys { get; }
    public string[] Tenants { get; }
    public Guid[] TotalKeys { get; }
    public string[] TotalTenants { get; }
    public string[] Meters { get; }
    public string[] Periods { get; }
    public DateOnly[] Starts { get; }
    public decimal[] Used { get; }
    public Guid[] SettleKeys { get; }
    public string[] SettleTenants { get; }
    public string[] SettleIds { get; }

    private BatchRows((Guid Key, string Tenant, UsageIncrement Increment)[] increments, string[] tenants)
    {
        _increments = increments;
        Tenants = tenants;
        Keys = new Guid[increments.Length];
        var totals = new List<(Guid Key, string Tenant, PeriodTotal Total)>(increments.Length * 2);
        var settles = new List<(Guid Key, string Tenant, string Id)>();
        for (var i = 0; i < increments.Length; i++)
        {
            var (key, tenant, increment) = increments[i];
            Keys[i] = key;
            foreach (var total in PeriodTotal.Of(increment)) totals.Add((key, tenant, total));
            if (increment.ReservationId is { } reservation) settles.Add((key, tenant, reservation));
        }
        TotalKeys = [.. totals.Select(t => t.Key)];
        TotalTenants = [.. totals.Select(t => t.Tenant)];
        Meters = [.. totals.Select(t => t.Total.Meter)];
        Periods = [.. totals.Select(t => t.Total.Period)];
        Starts = [.. totals.Select(t => t.Total.Start)];
        Used = [.. totals.Select(t => t.Total.Used)];
        SettleKeys = [.. settles.Select(s => s.Key)];
        SettleTenants = [.. settles.Select(s => s.Tenant)];
        SettleIds = [.. settles.Select(s => s.Id)];
    }

    public static BatchRows Of(IReadOnlyList<(string Tenant, IReadOnlyList<UsageIncrement> Increments)> batch)
    {
        var seen = new HashSet<Guid>();
        var increments = new List<(Guid Key, string Tenant, UsageIncrement Increment)>();
        foreach (var (tenant, list) in batch)
            foreach (var increment in list)
            {
                var key = UsageKey.Of(tenant, increment.Id);
                if (seen.Add(key)) increments.Add((key, tenant, increment));
            }
        // Guid's own order is not uuid's; any one order for all batches is what matters.
        increments.Sort((a, b) => a.Key.CompareTo(b.Key));
        var tenants = batch.Select(t => t.Tenant).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        return new BatchRows([.. increments], tenants);
    }

    /// <summary>Per tenant, in the order of <see cref="Tenants"/>, the increments whose receipt is new and the tenant's place in the chain.</summary>
    public IReadOnlyList<TenantApplied> Applied(IReadOnlySet<Guid> fresh, IReadOnlyDictionary<string, (long Sequence, long Previous)> chain)
    {
        var byTenant = _increments.Where(i => fresh.Contains(i.Key)).ToLookup(i => i.Tenant, i => i.Increment, StringComparer.Ordinal);
        return [.. Tenants.Select(t => new TenantApplied(t, [.. byTenant[t]], chain[t].Sequence, chain[t].Previous))];
    }
}
