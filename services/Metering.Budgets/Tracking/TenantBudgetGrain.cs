using Metering.Contracts.Budgets;

namespace Metering.Budgets.Tracking;

/// <summary>
/// Keeps one tenant's usage totals in memory, backed by <see cref="BudgetStore"/>. Not reentrant: a tenant's
/// usage is applied one batch at a time, in the order its partition delivered it.
/// </summary>
public sealed class TenantBudgetGrain(BudgetStore store, TimeProvider clock) : Grain, ITenantBudgetGrain
{
    private readonly Dictionary<(string Meter, string Period, DateOnly Start), decimal> _totals = [];

    private string Tenant => this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        foreach (var total in await store.LoadAsync(Tenant, PeriodTotal.MonthStart(today), cancellationToken))
            _totals[(total.Meter, total.Period, total.Start)] = total.Used;
    }

    public async Task<int> ApplyUsage(IReadOnlyList<UsageIncrement> increments)
    {
        var applied = await store.ApplyAsync(Tenant, increments, CancellationToken.None);
        foreach (var total in applied.SelectMany(PeriodTotal.Of))
        {
            var key = (total.Meter, total.Period, total.Start);
            _totals[key] = _totals.GetValueOrDefault(key) + total.Used;
        }
        return applied.Count;
    }

    public Task<IReadOnlyList<PeriodTotal>> GetCurrentTotals()
    {
        var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        var month = PeriodTotal.MonthStart(today);
        IReadOnlyList<PeriodTotal> current = _totals
            .Where(t => (t.Key.Period == Periods.Day && t.Key.Start == today) || (t.Key.Period == Periods.Month && t.Key.Start == month))
            .Select(t => new PeriodTotal(t.Key.Meter, t.Key.Period, t.Key.Start, t.Value))
            .OrderBy(t => t.Meter, StringComparer.Ordinal).ThenBy(t => t.Period, StringComparer.Ordinal)
            .ToList();
        return Task.FromResult(current);
    }
}
