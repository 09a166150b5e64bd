using Metering.Budgets.TenantBudgets;

namespace Metering.UnitTests;

public sealed class BatchChainTests
{
    [Theory]
    [InlineData(1, 0, 0, BatchStep.Next)]            // a tenant's first batch
    [InlineData(5, 4, 4, BatchStep.Next)]
    [InlineData(5, 4, 5, BatchStep.AlreadyCounted)]  // loaded on activation after the batch was stored
    [InlineData(4, 3, 5, BatchStep.AlreadyCounted)]  // a late call for a batch a reload already took in
    [InlineData(6, 5, 4, BatchStep.Missed)]          // batch 5 was stored but its call never arrived
    [InlineData(1, 0, 3, BatchStep.AlreadyCounted)]
    public void A_batch_is_added_once_and_a_gap_makes_the_grain_reload(long sequence, long previous, long last, BatchStep expected) =>
        Assert.Equal(expected, BatchChain.Step(sequence, previous, last));
}
