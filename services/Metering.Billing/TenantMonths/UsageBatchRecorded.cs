namespace Metering.Billing.TenantMonths;

/// <summary>
/// The usage of one tenant and month that one consumer batch recorded, appended to that tenant-month stream. One event
/// per batch rather than per usage keeps the event store fast; each usage is still kept with its id, so every invoice
/// line can be explained down to the events behind it. Usage of a finalized month lands on the next open month's
/// stream with <see cref="AdjustmentFor"/> naming the month it belongs to, and <see cref="FrozenRateCards"/> the rate-card
/// versions that month's invoice was frozen with (its prices are the usage's prices).
/// </summary>
public sealed record UsageBatchRecorded(string Tenant, string Month, IReadOnlyList<RecordedUsage> Usage, string? AdjustmentFor = null,
    int? FrozenRateCards = null) : ITenantMonthEvent;

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
