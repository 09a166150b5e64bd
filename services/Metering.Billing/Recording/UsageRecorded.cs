using Metering.Contracts.Usage;

namespace Metering.Billing.Recording;

/// <summary>A usage event counted for billing, appended to the stream of its tenant and UTC month.</summary>
public sealed record UsageRecorded(
    string Tenant,
    string UsageId,
    string Meter,
    decimal Quantity,
    DateTimeOffset Timestamp,
    string? Model,
    string? GpuType,
    string? Service)
{
    public static UsageRecorded From(UsageEvent e) =>
        new(e.Tenant, e.Id, e.Meter, e.Quantity, e.Timestamp, e.Model, e.GpuType, e.Service);

    public string Month => BillingPeriod.Of(Timestamp);
}

/// <summary>The billing month (<c>YYYY-MM</c>, UTC) and the stream that holds a tenant's usage of it.</summary>
public static class BillingPeriod
{
    public static string Of(DateTimeOffset timestamp) => timestamp.UtcDateTime.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Streams are short: one per tenant and month, so none grows without bound or becomes a hot spot.</summary>
    public static string UsageStream(string tenant, string month) => $"usage:{tenant}:{month}";

    public static bool TryParse(string period, out DateOnly start) =>
        DateOnly.TryParseExact(period + "-01", "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.None, out start) && period.Length == 7;
}
