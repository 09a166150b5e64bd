using Metering.Contracts.Budgets;
using Orleans.Concurrency;

namespace Metering.Budgets.Tracking;

/// <summary>One tenant's real-time budget, keyed by tenant id.</summary>
[Alias("Metering.Budgets.ITenantBudgetGrain")]
public interface ITenantBudgetGrain : IGrainWithStringKey
{
    /// <summary>Counts the increments not counted before (by id) and returns how many were new.</summary>
    [Alias("ApplyUsage")]
    Task<int> ApplyUsage(IReadOnlyList<UsageIncrement> increments);

    /// <summary>Usage of the current UTC day and month, limits and status.</summary>
    [Alias("GetBudget"), AlwaysInterleave]
    Task<BudgetView> GetBudget();

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
