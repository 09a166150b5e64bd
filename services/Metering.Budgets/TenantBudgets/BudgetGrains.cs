using Metering.Budgets.Authorization;
using Orleans.Serialization;
using Orleans.Serialization.Configuration;

namespace Metering.Budgets.TenantBudgets;

public static class BudgetGrains
{
    /// <summary>
    /// What a silo needs to host <see cref="TenantBudgetGrain"/> beyond its clustering: the API records of
    /// <c>contracts/</c> carry no Orleans attributes (it stays free of infrastructure), so grains pass them as JSON; the
    /// cap on open reservations (checked at start); and the two sweeps that keep the stored state bounded and current
    /// without a grain being called: expired reservations deleted, tenants that are not ok re-evaluated at start-up and
    /// at each UTC midnight.
    /// </summary>
    public static ISiloBuilder AddBudgetGrains(this ISiloBuilder silo)
    {
        silo.Services.AddSerializer(ConfigureSerializer);
        silo.Services.AddSingleton<TenantBudgetGrains>();
        silo.Services.AddOptions<ReservationOptions>()
            .Configure<IConfiguration>((options, configuration) => options.MaxOpen = MeteringSettings.MaxOpenReservations(configuration))
            .ValidateOnStart();
        silo.Services.AddHostedService<ReservationPruning>();
        silo.Services.AddHostedService<PeriodBoundarySweep>();
        return silo;
    }

    /// <summary>The contracts' records as JSON, except where a call passes them as they are (<see cref="AuthorizeCopiers"/>).</summary>
    public static void ConfigureSerializer(ISerializerBuilder serializer)
    {
        serializer.AddJsonSerializer(
            isSupported: type => type.Namespace?.StartsWith("Metering.Contracts", StringComparison.Ordinal) == true,
            jsonSerializerOptions: Metering.Contracts.MeteringJson.Create());
        serializer.Configure(AuthorizeCopiers.Register);
    }
}
