namespace Metering.Billing.Invoices;

/// <summary>
/// An invoice by PRODUCT §4's pricing rule: each day's usage is priced with the rate-card version in effect that day; a
/// line is one (meter, model or GPU type, unit price); its amount is <see cref="PricingRule.Amount"/> of its quantity;
/// the total is the sum of the line amounts. Usage with no price in effect is kept as an unpriced line (no unit price, no amount).
/// Late usage and voids of a finalized month are on lines of their own marked <c>adjustment_for</c>, priced as that
/// month's frozen invoice priced its days (<see cref="RateCardHistory.PriceOf"/>).
/// </summary>
public static class InvoicePricing
{
    public static (IReadOnlyList<InvoiceLineView> Lines, decimal Total) Price(MonthlyUsage usage, RateCardHistory? rateCards)
    {
        var lines = usage.Days
            .Select(d => (d.Meter, d.Model, d.GpuType, d.Quantity, d.AdjustmentFor, Price: PriceOn(rateCards, d)))
            .GroupBy(d => (d.Meter, d.Model, d.GpuType, d.Price, d.AdjustmentFor))
            .Select(g =>
            {
                var quantity = g.Sum(d => d.Quantity);
                var amount = g.Key.Price is { } price ? PricingRule.Amount(g.Key.Meter, quantity, price) : (decimal?)null;
                return (Line: new InvoiceLineView(g.Key.Meter, g.Key.Model, g.Key.GpuType, quantity,
                    g.Key.Price?.ToString(CultureInfo.InvariantCulture), amount is { } a ? Money.Format(a) : null, g.Key.AdjustmentFor), Amount: amount ?? 0);
            })
            .OrderBy(l => l.Line.AdjustmentFor ?? "", StringComparer.Ordinal)
            .ThenBy(l => l.Line.Meter, StringComparer.Ordinal)
            .ThenBy(l => l.Line.Model ?? l.Line.GpuType, StringComparer.Ordinal)
            .ThenBy(l => l.Line.UnitPrice is null ? decimal.MaxValue : decimal.Parse(l.Line.UnitPrice, CultureInfo.InvariantCulture))
            .ToList();
        return (lines.Select(l => l.Line).ToList(), lines.Sum(l => l.Amount));
    }

    /// <summary>
    /// A line's amount in a month without adjustment lines whose every day one version prices (<paramref name="prices"/>,
    /// null: none): each item then has one price, so one line, and the month's total — as <see cref="Price"/> gives it —
    /// is the sum of these over its items' quantities (spend's tenant month rollup). Unpriced: 0.
    /// </summary>
    public static decimal AmountAt(PriceTable? prices, string meter, string? model, string? gpuType, decimal quantity) =>
        prices?.PriceOf(meter, model, gpuType) is { } price ? PricingRule.Amount(meter, quantity, price) : 0;

    /// <summary>The days of the month's usage that no rate-card version prices (what a finalize with allow_unpriced carries on).</summary>
    public static IReadOnlyList<DailyUsage> UnpricedDays(MonthlyUsage usage, RateCardHistory? rateCards) =>
        usage.Days.Where(d => d.Quantity != 0 && PriceOn(rateCards, d) is null).ToList();

    private static decimal? PriceOn(RateCardHistory? rateCards, DailyUsage usage) =>
        rateCards?.PriceOf(usage.Meter, usage.Model, usage.GpuType, usage.Day, usage.FrozenRateCards);
}
