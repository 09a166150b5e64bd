namespace Metering.Billing.Invoicing;

/// <summary>An invoice's total: a draft's priced now by <see cref="InvoicePricing"/>, a finalized one's as it was frozen.</summary>
public sealed record InvoiceTotal(string Tenant, string Status, decimal Total);

/// <summary>The invoice totals of a month, for every tenant with usage in it (adjustments included): the invoice list and spend by tenant and month.</summary>
public static class MonthInvoices
{
    public static async Task<IReadOnlyList<InvoiceTotal>> TotalsAsync(IQuerySession session, string period, CancellationToken ct)
    {
        var usage = await session.Query<MonthlyUsage>().Where(u => u.Month == period).ToListAsync(ct);
        var rateCards = await session.LoadAsync<RateCardHistory>(RateCardHistory.StreamKey, ct);
        return usage.Select(u => Of(u, rateCards)).OrderBy(i => i.Tenant, StringComparer.Ordinal).ToList();
    }

    public static InvoiceTotal Of(MonthlyUsage usage, RateCardHistory? rateCards) => usage.Finalized is { } frozen
        ? new InvoiceTotal(usage.Tenant, InvoiceStatuses.Finalized, decimal.Parse(frozen.Total, CultureInfo.InvariantCulture))
        : new InvoiceTotal(usage.Tenant, InvoiceStatuses.Draft, InvoicePricing.Price(usage, rateCards).Total);
}
