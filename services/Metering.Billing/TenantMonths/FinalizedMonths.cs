namespace Metering.Billing.TenantMonths;

/// <summary>
/// The finalized months of tenants that a decision looks at: each month it starts from and the ones after it, through
/// the first that is still open (<see cref="TenantMonthWrites.FinalizedFromAsync"/> loads exactly those). A month
/// not in here is open.
/// </summary>
public sealed class FinalizedMonths
{
    private readonly Dictionary<string, InvoiceFinalized> _byStream;

    public FinalizedMonths(IEnumerable<InvoiceFinalized> finalized) =>
        _byStream = finalized.ToDictionary(f => BillingPeriod.UsageStream(f.Tenant, f.Month), StringComparer.Ordinal);

    public static FinalizedMonths None { get; } = new([]);

    /// <summary>The month's invoice as it was frozen, or null while the month is open.</summary>
    public InvoiceFinalized? Of(string tenant, string month) => _byStream.GetValueOrDefault(BillingPeriod.UsageStream(tenant, month));

    /// <summary><paramref name="month"/> when it is open, else the first open month after it.</summary>
    public string FirstOpenFrom(string tenant, string month)
    {
        while (Of(tenant, month) is not null) month = BillingPeriod.Next(month);
        return month;
    }
}
