namespace Metering.Billing.TenantMonths;

/// <summary>
/// The usage of one tenant and month that one consumer batch recorded, appended to that tenant-month stream. One event
/// per batch rather than per usage keeps the event store fast. It holds the batch's <see cref="Totals"/>, what every
/// projection and SQL reader sums; the usage itself (ids, quantities, timestamps…) is kept beside it, in one row of
/// <see cref="BillingStore.BatchUsage"/> (<see cref="UsageRecordings"/>), so every invoice line can still be explained
/// down to the events behind it while the projections, which read every event back, never read it. Events stored before <see cref="Totals"/> existed hold every usage in <see cref="Usage"/> instead
/// (and no totals): <see cref="Sums"/> reads both. Usage of a finalized month lands on the next open month's stream with
/// <see cref="AdjustmentFor"/> naming the month it belongs to, and <see cref="FrozenRateCards"/> the rate-card versions
/// that month's invoice was frozen with (its prices are the usage's prices).
/// </summary>
public sealed record UsageBatchRecorded(string Tenant, string Month, IReadOnlyList<RecordedUsage> Usage, string? AdjustmentFor = null,
    int? FrozenRateCards = null) : ITenantMonthEvent
{
    /// <summary>The usage summed per UTC day and what spend and invoices group by; null in events of the old shape.</summary>
    public IReadOnlyList<UsageTotal>? Totals { get; init; }

    /// <summary>A batch event of the compact shape: its totals (the usage itself is kept beside it).</summary>
    public static UsageBatchRecorded Of(string tenant, string month, IReadOnlyList<RecordedUsage> usage, string? adjustmentFor = null, int? frozenRateCards = null) =>
        new(tenant, month, [], adjustmentFor, frozenRateCards) { Totals = UsageTotal.Of(usage) };

    /// <summary>What the batch adds up to, whichever shape it was stored in.</summary>
    public IReadOnlyList<UsageTotal> Sums() => Totals ?? UsageTotal.Of(Usage);
}

/// <summary>
/// The sum of a batch's usage of one UTC day and one (meter, model, GPU type, service, feature), and how many usage
/// events it sums. Its JSON names match <see cref="RecordedUsage"/>'s, so SQL readers take either array alike.
/// </summary>
public sealed record UsageTotal(DateOnly Day, string Meter, string? Model, string? GpuType, string? Service, string? Feature, decimal Quantity, int Count)
{
    public static IReadOnlyList<UsageTotal> Of(IEnumerable<RecordedUsage> usage)
    {
        var sums = new Dictionary<(DateOnly, string, string?, string?, string?, string?), (decimal Quantity, int Count)>();
        var order = new List<(DateOnly, string, string?, string?, string?, string?)>();
        foreach (var u in usage)
        {
            var key = (DateOnly.FromDateTime(u.Timestamp.UtcDateTime), u.Meter, u.Model, u.GpuType, u.Service, u.Feature);
            if (sums.TryGetValue(key, out var sum)) sums[key] = (sum.Quantity + u.Quantity, sum.Count + 1);
            else
            {
                sums[key] = (u.Quantity, 1);
                order.Add(key);
            }
        }
        return order.Select(k => new UsageTotal(k.Item1, k.Item2, k.Item3, k.Item4, k.Item5, k.Item6, sums[k].Quantity, sums[k].Count)).ToList();
    }
}

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
