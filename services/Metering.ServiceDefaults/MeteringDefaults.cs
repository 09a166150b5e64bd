using Metering.Contracts;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace Metering.ServiceDefaults;

public static class MeteringDefaults
{
    public const string ReadyTag = "ready";
    /// <summary>200 while the process runs; Kubernetes' liveness probe.</summary>
    public const string LivePath = "/healthz/live";
    /// <summary>200 when every check tagged <see cref="ReadyTag"/> passes (Kafka, PostgreSQL, consumers); readiness probe and image HEALTHCHECK.</summary>
    public const string ReadyPath = "/healthz/ready";

    /// <summary>
    /// The builder of a Metering service, with the service's own folder as content root rather than the working directory:
    /// configuration reloading watches the content root and every folder under it, and a working directory that holds a
    /// running database (a clone with <c>.metering/</c>) kept each service busy with file events.
    /// </summary>
    public static WebApplicationBuilder CreateBuilder(string[] args) =>
        WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });

    /// <summary>
    /// Configuration, bearer-token auth, problem details, health checks, OpenTelemetry and the OpenAPI document for one Metering service.
    /// The API binds to <c>http://127.0.0.1:{defaultPort}</c> unless ASPNETCORE_URLS or --urls says otherwise, the metrics
    /// to <c>http://127.0.0.1:{defaultManagementPort}</c> unless <see cref="MeteringSettings.ManagementUrlVariable"/> does.
    /// </summary>
    public static WebApplicationBuilder AddMeteringDefaults(this WebApplicationBuilder builder, string serviceName, int defaultPort, int defaultManagementPort)
    {
        builder.AddMeteringHostDefaults(serviceName, defaultPort, defaultManagementPort);
        builder.Services.AddExceptionHandler<DatabaseOutageHandler>();
        builder.AddTokenAuthentication();
        builder.AddApiReference(serviceName);
        return builder;
    }

    /// <summary>
    /// What every Metering host shares, APIs or not (the console's host): the URLs and the management port, problem
    /// details, request limits, health checks and OpenTelemetry; no bearer tokens and no OpenAPI document.
    /// </summary>
    public static WebApplicationBuilder AddMeteringHostDefaults(this WebApplicationBuilder builder, string serviceName, int defaultPort, int defaultManagementPort)
    {
        var urls = builder.Configuration["urls"] is { Length: > 0 } configured ? configured : $"http://127.0.0.1:{defaultPort}";
        builder.AddManagementEndpoint(urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), defaultManagementPort);

        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(15));
        builder.QuietRequestLogs();
        builder.Services.ConfigureHttpJsonOptions(o => MeteringJson.Configure(o.SerializerOptions));
        builder.Services.AddProblemDetails();
        builder.AddRequestLimits();
        builder.Services.AddHealthChecks();
        builder.AddMeteringOpenTelemetry(serviceName);
        return builder;
    }

    public static WebApplication MapMeteringDefaults(this WebApplication app)
    {
        app.MapMeteringHostDefaults();
        app.MapApiReference();
        app.MapWhoAmI();
        return app;
    }

    /// <summary>Exception handling, status pages, the management port, authentication and the health endpoints of <see cref="AddMeteringHostDefaults"/>.</summary>
    public static WebApplication MapMeteringHostDefaults(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapManagementEndpoint();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapHealthChecks(LivePath, new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks(ReadyPath, new HealthCheckOptions { Predicate = check => check.Tags.Contains(ReadyTag) });
        return app;
    }

    /// <summary>
    /// ASP.NET Core logs four lines per request at Information: at thousands of authorize calls a second that is most of
    /// the service's CPU and a log that grows by gigabytes. Requests are traced and counted instead; a configured
    /// <c>Logging:LogLevel:Microsoft.AspNetCore</c> still wins.
    /// </summary>
    private static void QuietRequestLogs(this WebApplicationBuilder builder)
    {
        const string category = "Microsoft.AspNetCore";
        if (builder.Configuration[$"Logging:LogLevel:{category}"] is null)
            builder.Logging.AddFilter(category, LogLevel.Warning);
    }

    private static void AddTokenAuthentication(this WebApplicationBuilder builder)
    {
        var isDevelopment = builder.Environment.IsDevelopment();
        var admin = Token(builder, MeteringSettings.AdminTokenVariable, MeteringSettings.DevAdminToken, isDevelopment);
        var emitter = Token(builder, MeteringSettings.EmitterTokenVariable, MeteringSettings.DevEmitterToken, isDevelopment);
        TokenRules.CheckRoles(admin, emitter);
        var viewers = ViewerTokens.Parse(builder.Configuration[MeteringSettings.ViewerTokensVariable], admin, emitter);
        if (!isDevelopment) TokenRules.CheckStrength(admin, emitter, viewers);
        builder.Services.Configure<TokenOptions>(o => { o.AdminToken = admin; o.EmitterToken = emitter; o.ViewerTokens = viewers; });
        builder.Services.AddAuthentication(BearerTokenHandler.SchemeName)
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, BearerTokenHandler>(BearerTokenHandler.SchemeName, null);
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(Policies.Admin, p => p.RequireRole(Roles.Admin))
            .AddPolicy(Policies.Emitter, p => p.RequireRole(Roles.Admin, Roles.Emitter))
            .AddPolicy(Policies.Reader, p => p.RequireRole(Roles.Admin, Roles.Viewer));
    }

    private static string Token(WebApplicationBuilder builder, string variable, string devDefault, bool isDevelopment)
    {
        var token = builder.Configuration[variable];
        if (isDevelopment) return string.IsNullOrEmpty(token) ? devDefault : token;
        if (string.IsNullOrEmpty(token))
            throw new InvalidOperationException($"{variable} must be set outside Development.");
        if (token == devDefault)
            throw new InvalidOperationException($"{variable} is the development default; set a secret token outside Development.");
        return token;
    }
}
