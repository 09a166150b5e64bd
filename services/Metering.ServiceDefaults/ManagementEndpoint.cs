using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;

namespace Metering.ServiceDefaults;

/// <summary>
/// The management port: <see cref="MeteringTelemetry.MetricsPath"/> carries tenant ids and spend, so it is served apart
/// from the API, on a port of its own that only monitoring reaches (loopback unless configured otherwise), and nowhere
/// else. Nothing but the metrics answers there; the health endpoints stay on the API port, where the probes ask.
/// </summary>
public sealed record ManagementEndpoint(string Url, int Port)
{
    /// <summary>
    /// <see cref="MeteringSettings.ManagementUrlVariable"/>, else <c>http://127.0.0.1:{defaultPort}</c>; refused when it is
    /// no http URL with a port, or when an API URL uses the same port.
    /// </summary>
    public static ManagementEndpoint From(IConfiguration configuration, int defaultPort, IEnumerable<string> apiUrls)
    {
        const string variable = MeteringSettings.ManagementUrlVariable;
        var url = configuration[variable] is { Length: > 0 } configured ? configured.Trim() : $"http://127.0.0.1:{defaultPort}";
        BindingAddress address;
        try
        {
            address = BindingAddress.Parse(url);
        }
        catch (FormatException)
        {
            throw new InvalidOperationException($"{variable} is not a URL such as http://127.0.0.1:{defaultPort} or http://+:{defaultPort}: '{url}'.");
        }
        if (address.Scheme != "http" || address.Port <= 0 || address.PathBase.Length > 0)
            throw new InvalidOperationException($"{variable} must be an http URL with a port and no path, such as http://127.0.0.1:{defaultPort} or http://+:{defaultPort}: '{url}'.");
        if (apiUrls.Any(api => PortOf(api) == address.Port))
            throw new InvalidOperationException($"{variable} uses port {address.Port}, which the API listens on; the management port must be a port of its own.");
        return new ManagementEndpoint(url, address.Port);
    }

    private static int? PortOf(string url)
    {
        try
        {
            return BindingAddress.Parse(url).Port;
        }
        catch (FormatException)
        {
            return null; // Kestrel reports a malformed API URL itself.
        }
    }
}

internal static class ManagementEndpointExtensions
{
    /// <summary>Kestrel listens on the API URLs and the management URL.</summary>
    internal static void AddManagementEndpoint(this WebApplicationBuilder builder, string[] apiUrls, int defaultManagementPort)
    {
        var management = ManagementEndpoint.From(builder.Configuration, defaultManagementPort, apiUrls);
        builder.WebHost.UseUrls([.. apiUrls, management.Url]);
        builder.Services.AddSingleton(management);
    }

    /// <summary>
    /// A request that arrived on the management port gets the metrics or 404 and never reaches the API's endpoints; on
    /// every other port <see cref="MeteringTelemetry.MetricsPath"/> is no route at all (404).
    /// </summary>
    internal static void MapManagementEndpoint(this WebApplication app)
    {
        var port = app.Services.GetRequiredService<ManagementEndpoint>().Port;
        app.MapWhen(context => context.Connection.LocalPort == port, management => management
            .UseOpenTelemetryPrometheusScrapingEndpoint(MeteringTelemetry.MetricsPath)
            .Run(context =>
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }));
    }
}
