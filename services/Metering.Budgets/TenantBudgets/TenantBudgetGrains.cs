namespace Metering.Budgets.TenantBudgets;

/// <summary>
/// How every part of Budgets addresses a tenant's budget grain: the grain's type and interface type resolved once.
/// <c>GetGrain&lt;T&gt;(key)</c> resolves the interface's type from its attributes by reflection on every call: 6-8 % of
/// Budgets' CPU samples when it answered authorize alone, 4 % at 10,000 usage events/s (a call per tenant per batch).
/// </summary>
public sealed class TenantBudgetGrains
{
    private readonly IGrainFactory _grains;
    private readonly GrainType _type;
    private readonly GrainInterfaceType _interface;

    public TenantBudgetGrains(IGrainFactory grains)
    {
        _grains = grains;
        var any = (GrainReference)grains.GetGrain<ITenantBudgetGrain>("any");
        (_type, _interface) = (any.GetGrainId().Type, any.InterfaceType);
    }

    public ITenantBudgetGrain Of(string tenant) => (ITenantBudgetGrain)_grains.GetGrain(GrainId.Create(_type, tenant), _interface);
}
