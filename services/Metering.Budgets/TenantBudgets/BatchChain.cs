namespace Metering.Budgets.TenantBudgets;

public enum BatchStep
{
    /// <summary>The grain's totals already include the batch (it loaded them after the batch was stored).</summary>
    AlreadyCounted,
    /// <summary>The batch follows the last one the grain took in: add it.</summary>
    Next,
    /// <summary>A batch in between never reached the grain: reload the totals from the store.</summary>
    Missed,
}

/// <summary>Where a stored batch (its number and the tenant's number before it) stands to a grain's last batch.</summary>
public static class BatchChain
{
    public static BatchStep Step(long sequence, long previous, long last) =>
        sequence <= last ? BatchStep.AlreadyCounted : previous == last ? BatchStep.Next : BatchStep.Missed;
}
