using System.Reflection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Metering.ServiceDefaults;

/// <summary>
/// Traces, metrics and logs of one service. Metrics are always kept (Prometheus scrapes <see cref="MeteringTelemetry.MetricsPath"/> on the <see cref="ManagementEndpoint"/>);
/// OTLP export of all three signals, and the recording of spans at all, happen only when
/// <see cref="MeteringTelemetry.OtlpEndpointVariable"/> is set (protocol, headers and intervals come from the standard OTEL_* variables).
/// </summary>
internal static class MeteringOpenTelemetry
{
    public static void AddMeteringOpenTelemetry(this WebApplicationBuilder builder, string serviceName)
    {
        var otlp = !string.IsNullOrEmpty(builder.Configuration[MeteringTelemetry.OtlpEndpointVariable]);

        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource
                .AddService(serviceName, serviceVersion: ServiceVersion(), serviceInstanceId: $"{Environment.MachineName}-{Environment.ProcessId}")
                .AddAttributes([new("deployment.environment.name", builder.Environment.EnvironmentName)]))
            .WithMetrics(metrics => metrics
                .AddMeter(MeteringTelemetry.MeterName)
                .AddMeter(LibraryTelemetry.Meters)
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddNpgsqlInstrumentation()
                .AddPrometheusExporter());
        // Spans are only recorded when they go somewhere: every usage event gets consumer spans, which cost CPU.
        if (!otlp) return;
        otel.WithTracing(tracing => tracing
                .AddSource(MeteringTelemetry.SourceName)
                .AddSource(LibraryTelemetry.Sources)
                .AddAspNetCoreInstrumentation(o => o.Filter = ctx => !IsOperational(ctx.Request.Path))
                .AddHttpClientInstrumentation()
                .AddNpgsql())
            .UseOtlpExporter();
    }

    /// <summary>Probes and scrapes: frequent, uninteresting, and they would drown the traces of real requests.</summary>
    private static bool IsOperational(PathString path) =>
        path.StartsWithSegments("/healthz") || path.StartsWithSegments(MeteringTelemetry.MetricsPath);

    private static string ServiceVersion()
    {
        var entry = Assembly.GetEntryAssembly() ?? typeof(MeteringOpenTelemetry).Assembly;
        return entry.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            ?? entry.GetName().Version?.ToString()
            ?? "0.0.0";
    }
}
