using Metering.Billing.Invoices;
using Metering.Billing.RateCards;
using Metering.Billing.Spend;

namespace Metering.UnitTests;

/// <summary>Spend's pricing: the version in effect each day, one rounding per point, null keys, unpriced usage, whole months as invoices.</summary>
public sealed class SpendPricingTests
{
    private static readonly DateOnly First = new(2026, 10, 1);

    private static readonly RateCardHistory RateCards = new(RateCardHistory.StreamKey,
    [
        new RateCardVersionAdded(1, "USD", First, [new RateCardPrice(Meters.OutputTokens, "llama", null, 2.40m), new RateCardPrice(Meters.GpuSeconds, null, "h100", 4.00m)],
            DateTimeOffset.UnixEpoch, "test"),
        new RateCardVersionAdded(2, "USD", First.AddDays(14), [new RateCardPrice(Meters.OutputTokens, "llama", null, 2.00m)], DateTimeOffset.UnixEpoch, "test"),
    ]);

    private static SpendRequest Request(string groupBy, string granularity = SpendGranularity.Day) => new(First, First.AddDays(30), groupBy, granularity);

    private static SpendRow Tokens(string? key, int day, decimal quantity, string model = "llama") => new(key, First.AddDays(day - 1), Meters.OutputTokens, model, null, quantity);

    private static SpendRow Gpu(string? key, int day, decimal seconds) => new(key, First.AddDays(day - 1), Meters.GpuSeconds, null, "h100", seconds);

    private static List<(string? Key, string Date, string Cost)> Points(Metering.Contracts.Billing.SpendView view) =>
        view.Series.SelectMany(s => s.Points.Select(p => (s.Key, p.Date, p.Cost))).ToList();

    [Fact]
    public void Each_day_is_priced_with_the_version_in_effect_that_day()
    {
        var view = SpendPricing.Price(Request(SpendGroups.Team), [Tokens("nlp", 14, 1_000_000), Tokens("nlp", 15, 1_000_000)], RateCards);

        Assert.Equal([("nlp", "2026-10-14", "2.40"), ("nlp", "2026-10-15", "2.00")], Points(view));
        Assert.Equal("4.40", view.Total);
        Assert.Null(view.UnpricedQuantity);
    }

    [Fact]
    public void A_point_is_summed_exactly_and_rounded_half_even_once()
    {
        // 1,667 tokens at 2.40 are 0.0040008, 0.00 if each were rounded; three of them in one point are 0.0120024 → 0.01.
        // Token and GPU usage (1,250 s at 4.00 per hour = 1.3888…) divide by their own unit sizes before the one rounding.
        var view = SpendPricing.Price(Request(SpendGroups.Team, SpendGranularity.Month),
            [Tokens("nlp", 2, 1_667), Gpu("nlp", 3, 1_250), Tokens("vision", 2, 1_667), Tokens("vision", 3, 1_667), Tokens("vision", 4, 1_667)], RateCards);

        Assert.Equal([("nlp", "2026-10", "1.39"), ("vision", "2026-10", "0.01")], Points(view));
        // Half-even: 2,500 tokens at 2.00 (from the 15th) are 0.005 → 0.00, not 0.01; 7,500 are 0.015 → 0.02.
        var half = SpendPricing.Price(Request(SpendGroups.Team), [Tokens("nlp", 20, 2_500)], RateCards);
        Assert.Equal("0.00", half.Series.Single().Points.Single().Cost);
        var above = SpendPricing.Price(Request(SpendGroups.Team), [Tokens("nlp", 20, 7_500)], RateCards);
        Assert.Equal("0.02", above.Series.Single().Points.Single().Cost);
    }

    [Fact]
    public void Missing_values_are_a_null_key_and_series_are_ordered_by_cost_then_key()
    {
        var view = SpendPricing.Price(Request(SpendGroups.Feature),
            [Tokens("search", 2, 1_000_000), Tokens(null, 2, 2_000_000), Tokens("chat", 2, 1_000_000), Tokens(null, 3, 1_000_000)], RateCards);

        Assert.Equal([null, "chat", "search"], view.Series.Select(s => s.Key));
        Assert.Equal(["2026-10-02", "2026-10-03"], view.Series[0].Points.Select(p => p.Date));
        Assert.Equal("12.00", view.Total);
    }

    [Fact]
    public void Usage_without_a_price_costs_nothing_and_is_counted_as_unpriced()
    {
        var view = SpendPricing.Price(Request(SpendGroups.Meter), [Tokens(Meters.OutputTokens, 2, 500, model: "mystery"), Tokens(Meters.OutputTokens, 2, 1_000_000)], RateCards);

        Assert.Equal(500m, view.UnpricedQuantity);
        var point = view.Series.Single().Points.Single();
        Assert.Equal(("2.40", 1_000_500m), (point.Cost, point.Quantity));
        // Without a rate card nothing is priced.
        var none = SpendPricing.Price(Request(SpendGroups.Meter), [Tokens(Meters.OutputTokens, 2, 500), Tokens(Meters.OutputTokens, 2, 1_000_000)], null);
        Assert.Equal((1_000_500m, "0.00"), (none.UnpricedQuantity, none.Total));
    }

    [Fact]
    public void Quantity_is_shown_only_when_points_count_one_meter()
    {
        Assert.All(SpendPricing.Price(Request(SpendGroups.Team), [Tokens("nlp", 2, 10), Gpu("nlp", 2, 10)], RateCards).Series.SelectMany(s => s.Points),
            p => Assert.Null(p.Quantity));
        Assert.Equal(10m, SpendPricing.Price(Request(SpendGroups.Team) with { Meter = Meters.GpuSeconds }, [Gpu("nlp", 2, 10)], RateCards).Series.Single().Points.Single().Quantity);
    }

    [Fact]
    public void Whole_months_by_tenant_show_the_invoice_totals_instead_of_the_usage()
    {
        var request = new SpendRequest(First, new DateOnly(2026, 11, 10), SpendGroups.Tenant, SpendGranularity.Month);
        Assert.Equal(["2026-10"], request.WholeMonths());

        var view = SpendPricing.Price(request, [Tokens("acme", 2, 1_667), Tokens("acme", 35, 1_000_000)], RateCards,
            new Dictionary<string, IReadOnlyList<InvoiceTotal>> { ["2026-10"] = [new InvoiceTotal("acme", "finalized", 7.77m), new InvoiceTotal("beta", "draft", 0m)] });

        Assert.Equal([("acme", "2026-10", "7.77"), ("acme", "2026-11", "2.00"), ("beta", "2026-10", "0.00")], Points(view));
        Assert.Equal("9.77", view.Total);
    }

    [Theory]
    [InlineData(null, "2026-10-31", null, null, "from")]
    [InlineData("2026-10-01", "2026-13-01", null, null, "to")]
    [InlineData("2026-10-02", "2026-10-01", null, null, "to")]
    [InlineData("2026-01-01", "2027-02-05", null, null, "to")]
    [InlineData("9998-12-01", "9999-12-31", null, null, "to")]
    [InlineData("1999-12-31", "2000-01-01", null, null, "from")]
    [InlineData("2026-10-01", "2026-10-31", "region", null, "group_by")]
    [InlineData("2026-10-01", "2026-10-31", null, "week", "granularity")]
    public void A_bad_parameter_is_named(string? from, string? to, string? groupBy, string? granularity, string field)
    {
        var (request, errors) = GetSpend.Read(from, to, groupBy, granularity, null, null, null, null, null);
        Assert.Equal([field], errors.Keys);
        Assert.Null(request);
    }

    [Fact]
    public void Filters_are_checked_and_400_days_are_allowed()
    {
        Assert.Equal(["gpu_type", "meter", "model", "team", "tenant"],
            GetSpend.Read("2026-10-01", "2026-10-31", null, null, "Bad Tenant", "team\n", "tokens", "", "H100!").Errors.Keys.Order(StringComparer.Ordinal));
        var (request, _) = GetSpend.Read("2026-01-01", "2027-02-04", null, null, null, null, null, null, null);
        Assert.Equal((SpendGroups.Tenant, SpendGranularity.Day, 399), (request!.GroupBy, request.Granularity, request.To.DayNumber - request.From.DayNumber));
    }
}
