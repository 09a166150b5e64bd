using Metering.UsageTopic;

namespace Metering.Budgets.TenantBudgets;

/// <summary>
/// A consumer batch as <see cref="BudgetStore.ApplyBatchAsync"/> stores it: a receipt key per increment
/// (<see cref="UsageKey"/> of (tenant, id); the same id twice for a tenant keeps the first) and the batch's tenants.
/// Receipts go in key order and tenants in ordinal order, so that batches touching the same rows lock them in one order
/// and never deadlock.
/// </summary>
internal sealed class BatchRows
{
    private readonly (Guid Key, string Tenant, UsageIncrement Increment)[] _increments;

    public Guid[] Keys { get; }
    public string[] Tenants { get; }

    private BatchRows((Guid Key, string Tenant, UsageIncrement Increment)[] increments, string[] tenants)
    {
        _increments = increments;
        Keys = [.. increments.Select(i => i.Key)];
        Tenants = tenants;
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
        // Guid's own order is not uuid's; one order for every batch is what matters.
        increments.Sort((a, b) => a.Key.CompareTo(b.Key));
        var tenants = batch.Select(t => t.Tenant).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        return new BatchRows([.. increments], tenants);
    }

    /// <summary>The increments whose receipt is new.</summary>
    public IReadOnlyList<(string Tenant, UsageIncrement Increment)> Fresh(IReadOnlySet<Guid> fresh) =>
        [.. _increments.Where(i => fresh.Contains(i.Key)).Select(i => (i.Tenant, i.Increment))];

    /// <summary>Per tenant, in the order of <see cref="Tenants"/>, what was new for it and its place in the chain.</summary>
    public IReadOnlyList<TenantApplied> Applied(IReadOnlyList<(string Tenant, UsageIncrement Increment)> fresh,
        IReadOnlyDictionary<string, (long Sequence, long Previous)> chain, BatchTotals totals)
    {
        var byTenant = fresh.ToLookup(i => i.Tenant, i => i.Increment, StringComparer.Ordinal);
        return [.. Tenants.Select(t => new TenantApplied(t, [.. byTenant[t]], totals.UsageOf(t), chain[t].Sequence, chain[t].Previous))];
    }
}
