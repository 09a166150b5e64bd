using Orleans.Serialization;

namespace Metering.Budgets.Tracking;

public static class BudgetGrains
{
    /// <summary>
    /// What a silo needs to host <see cref="TenantBudgetGrain"/> beyond its clustering: the API records of
    /// <c>contracts/</c> carry no Orleans attributes (it stays free of infrastructure), so grains pass them as JSON.
    /// </summary>
    public static ISiloBuilder AddBudgetGrains(this ISiloBuilder silo)
    {
        silo.Services.AddSerializer(serializer => serializer.AddJsonSerializer(
            isSupported: type => type.Namespace?.StartsWith("Metering.Contracts", StringComparison.Ordinal) == true,
            jsonSerializerOptions: Metering.Contracts.MeteringJson.Create()));
        return silo;
    }
}
