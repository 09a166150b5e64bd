namespace Metering.Budgets.TenantBudgets;

/// <summary>
/// The new increments of a stored batch summed per tenant and total (meter, period, start): one upsert per total, not one
/// per event, and what each tenant's grain takes in (<see cref="UsageOf"/>). <see cref="Rows"/> are in the order in which
/// every batch locks totals: tenant, period, start, meter.
/// </summary>
internal sealed class BatchTotals
{
    private readonly Dictionary<string, TenantSums> _tenants;

    private BatchTotals(Dictionary<string, TenantSums> tenants, IReadOnlyList<(string Tenant, PeriodTotal Total)> rows) => (_tenants, Rows) = (tenants, rows);

    public IReadOnlyList<(string Tenant, PeriodTotal Total)> Rows { get; }

    public AppliedUsage UsageOf(string tenant) => _tenants.TryGetValue(tenant, out var sums) ? sums.Usage() : AppliedUsage.None;

    public static BatchTotals Of(IEnumerable<(string Tenant, UsageIncrement Increment)> applied)
    {
        var tenants = new Dictionary<string, TenantSums>(StringComparer.Ordinal);
        foreach (var (tenant, increment) in applied)
        {
            if (!tenants.TryGetValue(tenant, out var sums)) tenants[tenant] = sums = new TenantSums();
            sums.Add(increment);
        }
        var rows = new List<(string Tenant, PeriodTotal Total)>();
        foreach (var tenant in tenants.Keys.Order(StringComparer.Ordinal))
            foreach (var total in tenants[tenant].Totals()) rows.Add((tenant, total));
        return new BatchTotals(tenants, rows);
    }

    /// <summary>One tenant's sums: a few meters × periods, so a short list searched in order (as <see cref="TenantBudget"/> does).</summary>
    private sealed class TenantSums
    {
        private readonly List<PeriodTotal> _totals = [];
        private List<string>? _settled;
        private decimal _cost;

        public void Add(UsageIncrement increment)
        {
            foreach (var total in PeriodTotal.Of(increment)) Add(total);
            if (increment.ReservationId is { } reservation) (_settled ??= []).Add(reservation);
            _cost += increment.Cost;
        }

        private void Add(PeriodTotal total)
        {
            for (var i = 0; i < _totals.Count; i++)
            {
                var sum = _totals[i];
                if (sum.Start != total.Start || sum.Meter != total.Meter || sum.Period != total.Period) continue;
                _totals[i] = sum with { Used = sum.Used + total.Used };
                return;
            }
            _totals.Add(total);
        }

        public IEnumerable<PeriodTotal> Totals() => _totals
            .OrderBy(t => t.Period, StringComparer.Ordinal).ThenBy(t => t.Start).ThenBy(t => t.Meter, StringComparer.Ordinal);

        public AppliedUsage Usage() => new([.. _totals], _settled is null ? [] : [.. _settled], _cost);
    }
}
