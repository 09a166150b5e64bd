using Metering.Contracts.Usage;

namespace Metering.Billing.Recording;

/// <summary>
/// The usage of one tenant and month that one consumer batch recorded, appended to that tenant-month stream. One event
/// per batch rather than per usage keeps the event store fast; each usage is still kept with its id, so every invoice
/// line can be explained down to the events behind it. Usage of a finalized month lands on the next open month's
/// stream with <see cref="AdjustmentFor"/> naming the month it belongs to, and <see cref="FrozenRateCards"/> the rate-card
/// versions that month's invoice was frozen with (its prices are the usage's prices).
/// </summary>
public sealed record UsageBatchRecorded(string Tenant, string Month, IReadOnlyList<RecordedUsage> Usage, string? AdjustmentFor = null,
    int? FrozenRateCards = null);

/// <summary>
/// One usage event as Billing recorded it. <see cref="Feature"/> is its <c>attributes.feature</c> (spend groups by it);
/// events recorded before it was kept read it as null.
/// </summary>
public sealed record RecordedUsage(
    string Id,
    string Meter,
    decimal Quantity,
    DateTimeOffset Timestamp,
    string? Model,
    string? GpuType,
    string? Service,
    string? Feature = null)
{
    public const string FeatureAttribute = "feature";

    public static RecordedUsage From(UsageEvent e) => new(e.Id, e.Meter, e.Quantity, e.Timestamp, e.Model, e.GpuType, e.Service,
        e.Attributes?.GetValueOrDefault(FeatureAttribute) is { Length: > 0 } feature ? feature : null);
}

/// <summary>The billing month (<c>YYYY-MM</c>, UTC) and the stream that holds a tenant's usage of it.</summary>
public static class BillingPeriod
{
    public static string Of(DateTimeOffset timestamp) => timestamp.UtcDateTime.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Streams are short: one per tenant and month, so none grows without bound or becomes a hot spot.</summary>
    public static string UsageStream(string tenant, string month) => $"usage:{tenant}:{month}";

    public static string Next(string month) =>
        DateOnly.ParseExact(month + "-01", "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture).AddMonths(1)
            .ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A month as <c>YYYY-MM</c> of the years 2000 to 9998 (so that the month after it always exists).</summary>
    public static bool TryParse(string period, out DateOnly start)
    {
        start = default;
        return period.Length == 7
               && DateOnly.TryParseExact(period + "-01", "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture,
                   System.Globalization.DateTimeStyles.None, out start)
               && start.Year is >= 2000 and <= 9998;
    }
}
