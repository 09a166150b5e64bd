using System.Globalization;
using Metering.Billing.Invoices;
using Metering.Billing.RateCards;
using Metering.Contracts.Billing;
using Metering.Contracts.Usage;
using Metering.Pricing;

namespace Metering.Billing.Spend;

/// <summary>
/// What <c>GET /v1/spend</c> asks, checked. <see cref="Team"/> is the team whose subtree is read (null: every team);
/// <see cref="RecordedThrough"/> the last event recorded before the request, which its answer must count (null: the last now).
/// </summary>
public sealed record SpendRequest(DateOnly From, DateOnly To, string GroupBy, string Granularity, string? Tenant = null, string? Team = null,
    string? Meter = null, string? Model = null, string? GpuType = null, long? RecordedThrough = null)
{
    /// <summary>
    /// The one exception of PRODUCT §5a: by tenant and month, a month wholly in the range shows each tenant's invoice
    /// total. Only without meter, model or GPU-type filters, which no invoice total can honour.
    /// </summary>
    public bool ShowsInvoiceTotals => GroupBy == SpendGroups.Tenant && Granularity == SpendGranularity.Month && Meter is null && Model is null && GpuType is null;

    /// <summary>Points carry a quantity only when they count one meter (one unit).</summary>
    public bool ShowsQuantity => GroupBy == SpendGroups.Meter || Meter is not null;

    /// <summary>The months of the range whose first and last days are both in it.</summary>
    public IEnumerable<string> WholeMonths()
    {
        for (var start = new DateOnly(From.Year, From.Month, 1); start <= To; start = start.AddMonths(1))
            if (start >= From && start.AddMonths(1).AddDays(-1) <= To) yield return start.ToString("yyyy-MM", CultureInfo.InvariantCulture);
    }
}

public static class SpendGroups
{
    public const string Tenant = "tenant", Team = "team", Meter = "meter", Model = "model", GpuType = "gpu_type", Service = "service", Feature = "feature";
    public static readonly IReadOnlyList<string> All = [Tenant, Team, Meter, Model, GpuType, Service, Feature];
}

public static class SpendGranularity
{
    public const string Day = "day", Month = "month";
    public static readonly IReadOnlyList<string> All = [Day, Month];
}

/// <summary>Usage of one group value, UTC day and priced item, summed exactly in PostgreSQL.</summary>
public sealed record SpendRow(string? Key, DateOnly Day, string Meter, string? Model, string? GpuType, decimal Quantity);

/// <summary>
/// Prices spend rows by PRODUCT §4's rule: each day's usage with the rate-card version in effect that day, quantity ×
/// price summed exactly per point and unit size, divided once and rounded half-even to cents once per point. Usage
/// without a price is left out of the cost and counted in the unpriced quantity. Days without usage have no point.
/// </summary>
public static class SpendPricing
{
    /// <param name="invoiceMonths">Per whole month shown by invoice totals (<see cref="SpendRequest.ShowsInvoiceTotals"/>): the tenants' totals.</param>
    public static SpendView Price(SpendRequest request, IEnumerable<SpendRow> rows, RateCardHistory? rateCards,
        IReadOnlyDictionary<string, IReadOnlyList<InvoiceTotal>>? invoiceMonths = null)
    {
        var pricer = new SpendPricer(request, rateCards, invoiceMonths);
        foreach (var row in rows) pricer.Add(row);
        return pricer.View();
    }

    /// <summary>
    /// Each day's cost: the sum of that day's points (one per group value, rounded once as in <see cref="Price"/>), so a
    /// day is exactly what the spend API shows for it with the same grouping. With <paramref name="pricedOn"/> every
    /// day is priced with the version in effect on that day instead of its own (a forecast's history, valued as the
    /// days to come will be). Usage without a price costs nothing; days without usage are absent.
    /// </summary>
    public static IReadOnlyDictionary<DateOnly, decimal> DailyCosts(IEnumerable<SpendRow> rows, RateCardHistory? rateCards, DateOnly? pricedOn = null)
    {
        var fixedVersion = pricedOn is { } on ? rateCards?.InEffectOn(on) : null;
        var versions = new Dictionary<DateOnly, RateCardVersionAdded?>();
        var points = new Dictionary<(string? Key, DateOnly Day), Point>();
        foreach (var row in rows)
        {
            var version = fixedVersion;
            if (pricedOn is null && !versions.TryGetValue(row.Day, out version)) versions[row.Day] = version = rateCards?.InEffectOn(row.Day);
            if (!points.TryGetValue((row.Key, row.Day), out var point)) points[(row.Key, row.Day)] = point = new Point();
            point.Add(row.Meter, row.Quantity, version?.PriceOf(row.Meter, row.Model, row.GpuType));
        }
        return points.GroupBy(p => p.Key.Day).ToDictionary(g => g.Key, g => g.Sum(p => p.Value.Cost()));
    }

    public static string BucketOf(DateOnly day, string granularity) =>
        day.ToString(granularity == SpendGranularity.Month ? "yyyy-MM" : "yyyy-MM-dd", CultureInfo.InvariantCulture);

    internal static string Day(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>A point's usage: quantity × price summed per unit size, so each unit size divides once.</summary>
    internal sealed class Point
    {
        private readonly Dictionary<decimal, decimal> _valuePerUnit = [];
        public decimal Quantity { get; private set; }

        public void Add(string meter, decimal quantity, decimal? price)
        {
            Quantity += quantity;
            if (price is not { } p) return;
            var unit = PriceUnits.Of(meter);
            _valuePerUnit[unit] = _valuePerUnit.GetValueOrDefault(unit) + quantity * p;
        }

        public decimal Cost() => PricingRule.ToCents(_valuePerUnit.Sum(v => v.Value / v.Key));
    }
}

/// <summary>
/// <see cref="SpendPricing.Price"/> one row at a time, so rows can be priced as they are read: a month by team is some
/// 30,000 rows, and holding them all until priced cost more in garbage collection than pricing them.
/// </summary>
public sealed class SpendPricer(SpendRequest request, RateCardHistory? rateCards, IReadOnlyDictionary<string, IReadOnlyList<InvoiceTotal>>? invoiceMonths = null)
{
    // Each day's prices and bucket are looked up once, not per row.
    private readonly Dictionary<DateOnly, (PriceTable? Prices, string Bucket)> _days = [];
    private readonly Dictionary<RateCardVersionAdded, PriceTable> _tables = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<(string? Key, string Date), SpendPricing.Point> _points = [];
    private decimal _unpriced;
    private bool _anyUnpriced;

    public void Add(SpendRow row)
    {
        if (!_days.TryGetValue(row.Day, out var day))
        {
            var version = rateCards?.InEffectOn(row.Day);
            if (version is not null && !_tables.ContainsKey(version)) _tables[version] = version.Table();
            _days[row.Day] = day = (version is null ? null : _tables[version], SpendPricing.BucketOf(row.Day, request.Granularity));
        }
        var price = day.Prices?.PriceOf(row.Meter, row.Model, row.GpuType);
        if (price is null)
        {
            _unpriced += row.Quantity;
            _anyUnpriced = true;
        }
        var date = day.Bucket;
        if (invoiceMonths?.ContainsKey(date) == true) return;
        if (!_points.TryGetValue((row.Key, date), out var point)) _points[(row.Key, date)] = point = new SpendPricing.Point();
        point.Add(row.Meter, row.Quantity, price);
    }

    public SpendView View()
    {
        var costs = _points.Select(p => (p.Key.Key, p.Key.Date, Quantity: (decimal?)p.Value.Quantity, Cost: p.Value.Cost())).ToList();
        foreach (var (month, invoices) in invoiceMonths ?? new Dictionary<string, IReadOnlyList<InvoiceTotal>>())
            costs.AddRange(invoices.Select(i => ((string?)i.Tenant, month, (decimal?)null, i.Total)));

        var series = costs.GroupBy(c => c.Key)
            .Select(g => (Key: g.Key, Cost: g.Sum(c => c.Cost), Points: g.OrderBy(c => c.Date, StringComparer.Ordinal)
                .Select(c => new SpendPointView(c.Date, request.ShowsQuantity ? c.Quantity : null, Money.Format(c.Cost))).ToList()))
            .OrderByDescending(s => s.Cost).ThenBy(s => s.Key is null).ThenBy(s => s.Key, StringComparer.Ordinal)
            .Select(s => new SpendSeriesView(s.Key, s.Points))
            .ToList();
        return new SpendView(Money.Currency, SpendPricing.Day(request.From), SpendPricing.Day(request.To), request.GroupBy, request.Granularity,
            series, _anyUnpriced ? _unpriced : null, Money.Format(costs.Sum(c => c.Cost)));
    }
}
