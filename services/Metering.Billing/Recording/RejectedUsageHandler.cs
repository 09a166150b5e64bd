using System.Diagnostics.Metrics;
using Metering.ServiceDefaults;

namespace Metering.Billing.Recording;

/// <summary>Counts and logs usage records that break the v1 rules; they are acknowledged so their partition moves on.</summary>
public static class RejectedUsageHandler
{
    private static readonly Counter<long> Rejected = MeteringTelemetry.Meter.CreateCounter<long>(
        "metering.billing.usage.rejected", description: "Usage-topic records that are not valid usage events v1");

    public static void Handle(RejectedUsage rejected, ILogger logger)
    {
        Rejected.Add(1);
        logger.LogWarning("Rejected a usage record with key {Key}: {Reason}", rejected.Key, rejected.Reason);
    }
}
