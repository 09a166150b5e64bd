namespace Metering.Budgets.Tracking;

/// <summary>One tenant's real-time budget, keyed by tenant id.</summary>
[Alias("Metering.Budgets.ITenantBudgetGrain")]
public interface ITenantBudgetGrain : IGrainWithStringKey
{
    /// <summary>Counts the increments not counted before (by id) and returns how many were new.</summary>
    [Alias("ApplyUsage")]
    Task<int> ApplyUsage(IReadOnlyList<UsageIncrement> increments);

    /// <summary>The totals of the current UTC day and month.</summary>
    [Alias("GetCurrentTotals")]
    Task<IReadOnlyList<PeriodTotal>> GetCurrentTotals();
}
