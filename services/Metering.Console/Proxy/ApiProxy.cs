using System.Net.Http.Headers;
using Metering.Console.Session;
using Microsoft.AspNetCore.Authentication;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Transforms;

namespace Metering.Console.Proxy;

/// <summary>
/// <c>/api/{service}/{**rest}</c> → Ingest, Budgets or Billing at <c>/{rest}</c>, through YARP. Only a signed-in
/// session is forwarded (else 401 here), a state-changing call only with a valid antiforgery header (else 400 here);
/// the browser's <c>Authorization</c> and <c>Cookie</c> never reach a service, the session's bearer token does. The
/// services answer the role rules themselves, and their answers pass through unchanged.
/// </summary>
public static class ApiProxy
{
    public sealed record Api(string Name, Uri Url)
    {
        public string Prefix => $"/api/{Name}";
    }

    public static IReadOnlyList<Api> Apis(IConfiguration configuration) =>
    [
        new("ingest", ConsoleSettings.IngestUrl(configuration)),
        new("budgets", ConsoleSettings.BudgetsUrl(configuration)),
        new("billing", ConsoleSettings.BillingUrl(configuration)),
    ];

    public static WebApplicationBuilder AddApiProxy(this WebApplicationBuilder builder)
    {
        var apis = Apis(builder.Configuration);
        var routes = apis.Select(api => new RouteConfig
        {
            RouteId = api.Name,
            ClusterId = api.Name,
            AuthorizationPolicy = ConsoleSession.SignedIn,
            Match = new RouteMatch { Path = api.Prefix + "/{**rest}" },
            Metadata = new Dictionary<string, string> { [nameof(Api.Prefix)] = api.Prefix },
        }).ToList();
        var clusters = apis.Select(api => new ClusterConfig
        {
            ClusterId = api.Name,
            Destinations = new Dictionary<string, DestinationConfig> { [api.Name] = new() { Address = api.Url.ToString() } },
        }).ToList();
        builder.Services.AddReverseProxy()
            .LoadFromMemory(routes, clusters)
            .AddTransforms(context =>
            {
                context.AddPathRemovePrefix(context.Route.Metadata![nameof(Api.Prefix)]);
                context.AddRequestTransform(async transform =>
                {
                    var headers = transform.ProxyRequest.Headers;
                    headers.Remove("Cookie");
                    headers.Remove(ConsoleSession.CsrfHeader);
                    var token = await transform.HttpContext.GetTokenAsync(ConsoleSession.TokenName);
                    headers.Authorization = token is null ? null : new AuthenticationHeaderValue("Bearer", token);
                });
            });
        return builder;
    }

    /// <summary>
    /// The largest body any service takes (a rate card, a usage batch: 4 MB); each service still holds its own endpoints
    /// to their limits. The host's default of 64 KB would refuse a rate card before Billing saw it.
    /// </summary>
    public const long MaxBodyBytes = 4 * 1024 * 1024;

    public static WebApplication MapApiProxy(this WebApplication app)
    {
        app.MapReverseProxy(proxy =>
        {
            proxy.Use(async (context, next) =>
            {
                if (ConsoleSession.IsStateChanging(context.Request.Method) && !await ConsoleSession.HasValidCsrfHeaderAsync(context))
                {
                    await ConsoleSession.Refuse(context, StatusCodes.Status400BadRequest, "Missing or invalid antiforgery token",
                        $"A {context.Request.Method} through the console needs the {ConsoleSession.CsrfHeader} header from GET {SigningIn.SessionPath}; nothing was forwarded.");
                    return;
                }
                await next();
            });
            proxy.UseLoadBalancing();
        }).WithBodyLimit(MaxBodyBytes);
        return app;
    }
}
