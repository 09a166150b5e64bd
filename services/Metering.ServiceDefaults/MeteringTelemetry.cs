using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Metering.ServiceDefaults;

/// <summary>The project's own activity source and meter; every service reports under these names.</summary>
public static class MeteringTelemetry
{
    public const string SourceName = "Metering";
    public const string MeterName = "Metering";

    public static readonly ActivitySource Source = new(SourceName);
    public static readonly Meter Meter = new(MeterName);
}
