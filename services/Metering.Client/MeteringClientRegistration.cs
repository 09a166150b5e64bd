using Microsoft.Extensions.Http.Resilience;
using System.Net.Http.Headers;
using Metering.Client;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

public static class MeteringClientRegistration
{
    /// <summary>
    /// Registers <see cref="IngestClient"/>, <see cref="BudgetsClient"/> and <see cref="BillingClient"/> as typed clients of
    /// the HttpClient factory, each with its service's base address, the bearer token and the standard resilience handler
    /// under the client's rule of what may be repeated (<see cref="MeteringResilience"/>).
    /// </summary>
    public static IServiceCollection AddMeteringClient(this IServiceCollection services, Action<MeteringClientOptions> configure)
    {
        services.Configure(configure);
        Add<IngestClient>(services, nameof(MeteringClientOptions.Ingest), o => o.Ingest);
        Add<BudgetsClient>(services, nameof(MeteringClientOptions.Budgets), o => o.Budgets);
        Add<BillingClient>(services, nameof(MeteringClientOptions.Billing), o => o.Billing);
        return services;
    }

    private static void Add<TClient>(IServiceCollection services, string service, Func<MeteringClientOptions, Uri?> address) where TClient : class
    {
        services.AddHttpClient<TClient>((provider, http) =>
            {
                var options = provider.GetRequiredService<IOptions<MeteringClientOptions>>().Value;
                http.BaseAddress = address(options) ?? throw new InvalidOperationException($"MeteringClientOptions.{service} is not set: the client of {service} needs its base address");
                http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.Token);
                // The resilience handler's total timeout bounds every call, its attempts and waits included.
                http.Timeout = Timeout.InfiniteTimeSpan;
            })
            .ConfigurePrimaryHttpMessageHandler(provider =>
            {
                var handler = new SocketsHttpHandler();
                if (provider.GetRequiredService<IOptions<MeteringClientOptions>>().Value.MaxConnectionsPerServer is { } connections)
                    handler.MaxConnectionsPerServer = connections;
                return handler;
            })
            .AddStandardResilienceHandler()
            .Configure((resilience, provider) =>
            {
                MeteringResilience.Configure(resilience);
                provider.GetRequiredService<IOptions<MeteringClientOptions>>().Value.Resilience?.Invoke(resilience);
            });
    }
}
