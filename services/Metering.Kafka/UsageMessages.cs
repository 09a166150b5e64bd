using System.Diagnostics;
using Confluent.Kafka;
using Metering.Contracts.Usage;

namespace Metering.Kafka;

/// <summary>A usage event as the usage topic holds it, whoever produces it (Ingest or the emitter).</summary>
public static class UsageMessages
{
    /// <summary>
    /// Keyed by tenant, so a tenant's events stay in one partition and in order; stamped with
    /// <paramref name="validatedAt"/>, the instant the event was validated at, because consumers judge an event's age by
    /// its record's timestamp and so by the same clock; carrying the current activity's trace context.
    /// </summary>
    public static Message<string?, byte[]> Create(UsageEvent usage, DateTimeOffset validatedAt) => new()
    {
        Key = usage.Tenant,
        Value = UsageEventJson.Write(usage),
        Timestamp = new Timestamp(validatedAt),
        Headers = KafkaTraceContext.HeadersOf(Activity.Current),
    };
}
