using Orleans.Concurrency;

namespace Metering.Budgets.TenantBudgets;

/// <summary>One tenant's real-time budget, keyed by tenant id.</summary>
[Alias("Metering.Budgets.ITenantBudgetGrain")]
public interface ITenantBudgetGrain : IGrainWithStringKey
{
    /// <summary>
    /// Takes in what a stored batch counted for this tenant (<see cref="BudgetStore.ApplyBatchAsync"/>), summed. A grain that
    /// finds it missed a batch of the chain (<paramref name="previous"/> is not the last one it took in) reloads its totals.
    /// </summary>
    [Alias("AppliedUsage")]
    Task Applied(AppliedUsage usage, long sequence, long previous);

    /// <summary>Usage of the current UTC day and month, limits and status.</summary>
    [Alias("GetBudget"), AlwaysInterleave]
    Task<BudgetView> GetBudget();

    /// <summary>
    /// Re-evaluates the limits now and broadcasts a changed status (see <see cref="PeriodBoundarySweep"/>): activation does
    /// the same, so this wakes a tenant whose period ended while no silo held its grain.
    /// </summary>
    [Alias("Refresh")]
    Task Refresh();

    /// <summary>Replaces the tenant's limits, records who did it, and applies the new status at once.</summary>
    [Alias("SetQuota")]
    Task<BudgetView> SetQuota(IReadOnlyList<QuotaLimit> limits, string changedBy);

    /// <summary>
    /// The authorize rule of PRODUCT §5, optionally holding the quantity. Interleaves with usage being stored: its
    /// check and its hold happen in one step, so concurrent reservations can never together pass a limit.
    /// </summary>
    [Alias("Authorize"), AlwaysInterleave]
    Task<AuthorizeResponse> Authorize(AuthorizeRequest request);

    /// <summary>Gives back voided usage once; true when it had been counted and was subtracted.</summary>
    [Alias("VoidUsage")]
    Task<bool> VoidUsage(Metering.Contracts.Billing.UsageVoided voided);
}
