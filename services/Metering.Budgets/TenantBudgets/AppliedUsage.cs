namespace Metering.Budgets.TenantBudgets;

/// <summary>
/// What one stored batch added to a tenant, as its grain takes it in: the batch's new usage summed per total, the
/// reservations it settled and its cost in USD. A few totals per tenant and batch, however many events the batch held.
/// </summary>
[GenerateSerializer, Immutable, Alias("Metering.Budgets.AppliedUsage")]
public sealed record AppliedUsage(
    [property: Id(0)] IReadOnlyList<PeriodTotal> Totals,
    [property: Id(1)] IReadOnlyList<string> Settled,
    [property: Id(2)] decimal Cost)
{
    public static readonly AppliedUsage None = new([], [], 0);
}
