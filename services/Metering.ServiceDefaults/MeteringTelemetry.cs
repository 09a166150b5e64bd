using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Metering.ServiceDefaults;

/// <summary>The project's own activity source and meter; every service reports under these names.</summary>
public static class MeteringTelemetry
{
    public const string SourceName = "Metering";
    public const string MeterName = "Metering";

    /// <summary>Where Prometheus scrapes each service: on its management port only (<see cref="ManagementEndpoint"/>).</summary>
    public const string MetricsPath = "/metrics";

    /// <summary>The variable that turns OTLP export (traces, metrics, logs) on; read by the OpenTelemetry SDK itself.</summary>
    public const string OtlpEndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    public static readonly ActivitySource Source = new(SourceName);
    public static readonly Meter Meter = new(MeterName);

    // After Meter: static fields are initialised in the order they are written.
    private static readonly Counter<long> SideTopicSkips = Meter.CreateCounter<long>(
        "metering.topic.records.skipped", description: "Records of a side topic that could not be read or applied, logged and passed over");

    /// <summary>Counts a record of a side topic (not the usage topic) that could not be read or applied and was passed over.</summary>
    public static void SideTopicRecordSkipped(string topic) =>
        SideTopicSkips.Add(1, new KeyValuePair<string, object?>("messaging.destination.name", topic));
}

/// <summary>Activity sources and meters of the libraries the services use, beyond what the instrumentation packages add.</summary>
internal static class LibraryTelemetry
{
    public static readonly string[] Sources = ["Marten", "Wolverine", "Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application"];

    // Wolverine names its meter after the service ("Wolverine:<service>"), hence the wildcard.
    public static readonly string[] Meters = ["Marten", "Wolverine*", "Microsoft.Orleans", "System.Runtime"];
}
