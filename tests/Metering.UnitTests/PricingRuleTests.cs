using Metering.Billing.RateCards;
using Metering.Budgets.RateCards;
using Metering.Contracts.Billing;
using Metering.Pricing;

namespace Metering.UnitTests;

/// <summary>PRODUCT §4's rule as one implementation: unit sizes, half-even cents, money text, and the version in effect.</summary>
public sealed class PricingRuleTests
{
    private static readonly DateOnly October = new(2026, 10, 1);

    private sealed record TestVersion(int Number, DateOnly EffectiveFrom) : IRateCardVersion
    {
        int IRateCardVersion.Version => Number;
    }

    // v4 was added last but takes effect before v2 and v3; v2 and v3 take effect the same day.
    private static readonly IReadOnlyList<TestVersion> Versions =
        [new(1, October), new(2, October.AddDays(14)), new(3, October.AddDays(14)), new(4, October.AddDays(9))];

    [Theory]
    [InlineData(Meters.InputTokens, "1000000", "0.60", "0.60")]
    [InlineData(Meters.OutputTokens, "2500000", "2.40", "6.00")]
    [InlineData(Meters.CachedInputTokens, "1", "0.30", "0.0000003")]
    [InlineData(Meters.GpuSeconds, "3600", "4.00", "4.00")]
    [InlineData(Meters.GpuSeconds, "0.000001", "3600", "0.000001")]
    [InlineData(Meters.GpuSeconds, "5400", "2.50", "3.75")]
    public void Tokens_are_priced_per_million_and_gpu_seconds_per_hour_exactly(string meter, string quantity, string price, string value) =>
        Assert.Equal(decimal.Parse(value), PricingRule.Value(meter, decimal.Parse(quantity), decimal.Parse(price)));

    [Fact]
    public void The_exact_value_keeps_every_digit_up_to_the_largest_quantity_and_price()
    {
        // quantity ≤ 1e12 and price ≤ 1,000,000 with ≤ 10 decimals (RateCardRules): the product stays exact in a decimal.
        Assert.Equal(999_999_999_999.9999m, PricingRule.Value(Meters.OutputTokens, 1_000_000_000_000m, 999_999.9999999999m));
        Assert.Equal(1_234_567.9012345679m, PricingRule.Value(Meters.GpuSeconds, 444_444_444_444.444444m, 0.01m));
        Assert.Equal(0.0000000000000001m, PricingRule.Value(Meters.OutputTokens, 1m, 0.0000000001m));
    }

    [Theory]
    [InlineData(Meters.OutputTokens, "125000", "1.00", "0.12")] // 0.125: half to even, down
    [InlineData(Meters.OutputTokens, "135000", "1.00", "0.14")] // 0.135: half to even, up
    [InlineData(Meters.OutputTokens, "125001", "1.00", "0.13")] // 0.125001: above half
    [InlineData(Meters.OutputTokens, "-125000", "1.00", "-0.12")] // a void's negative quantity rounds the same way
    [InlineData(Meters.GpuSeconds, "45", "10.00", "0.12")] // 0.125 of a GPU-hour price
    [InlineData(Meters.GpuSeconds, "1", "0.01", "0.00")]
    public void An_amount_is_the_value_rounded_half_even_to_cents(string meter, string quantity, string price, string amount) =>
        Assert.Equal(decimal.Parse(amount), PricingRule.Amount(meter, decimal.Parse(quantity), decimal.Parse(price)));

    [Fact]
    public void Rounding_to_cents_is_half_even() =>
        Assert.Equal([0.02m, 0.02m, 0.04m, -0.02m], new[] { 0.015m, 0.025m, 0.035m, -0.025m }.Select(PricingRule.ToCents));

    [Theory]
    [InlineData("12.3", "12.30")]
    [InlineData("0", "0.00")]
    [InlineData("-0.5", "-0.50")]
    [InlineData("1234567.89", "1234567.89")]
    [InlineData("7.000", "7.00")]
    public void Money_is_written_with_two_decimals_and_no_group_separators(string amount, string text) =>
        Assert.Equal(text, Money.Format(decimal.Parse(amount)));

    [Fact]
    public void The_one_currency_is_USD() => Assert.Equal("USD", Money.Currency);

    [Theory]
    [InlineData(-1, null)] // before any version
    [InlineData(0, 1)] // on the first version's day
    [InlineData(8, 1)] // the day before the next one takes effect
    [InlineData(9, 4)] // added last, in effect from its own day
    [InlineData(13, 4)]
    [InlineData(14, 3)] // two versions from the same day: the one added later
    [InlineData(400, 3)] // a later effective_from wins over a higher number
    public void The_version_in_effect_is_the_latest_effective_from_not_after_the_day(int daysAfterFirst, int? expected) =>
        Assert.Equal(expected, VersionInEffect.On(Versions, October.AddDays(daysAfterFirst))?.Number);

    [Theory]
    [InlineData(14, 2, 2)] // a finalized invoice priced with the first two versions keeps version 2 on that day
    [InlineData(14, 1, 1)]
    [InlineData(9, 3, 1)] // version 4 did not exist yet
    [InlineData(-1, 4, null)]
    public void Through_limits_the_choice_to_the_first_versions(int daysAfterFirst, int through, int? expected) =>
        Assert.Equal(expected, VersionInEffect.On(Versions, October.AddDays(daysAfterFirst), through)?.Number);

    [Fact]
    public void No_versions_price_nothing() => Assert.Null(VersionInEffect.On(Array.Empty<TestVersion>(), October));

    [Fact]
    public void At_a_moment_the_version_is_chosen_for_its_UTC_day()
    {
        // 23:30 at UTC−2 on the 14th (day 13) is 01:30 UTC on the 15th (day 14), and the reverse.
        Assert.Equal(3, VersionInEffect.At(Versions, new DateTimeOffset(2026, 10, 14, 23, 30, 0, TimeSpan.FromHours(-2)))?.Number);
        Assert.Equal(4, VersionInEffect.At(Versions, new DateTimeOffset(2026, 10, 15, 0, 30, 0, TimeSpan.FromHours(2)))?.Number);
        Assert.Equal(4, VersionInEffect.At(Versions, new DateTimeOffset(2026, 10, 14, 23, 59, 59, 999, TimeSpan.Zero))?.Number);
        Assert.Equal(new DateOnly(2026, 10, 15), VersionInEffect.DayOf(new DateTimeOffset(2026, 10, 15, 0, 0, 0, TimeSpan.Zero)));
    }

    [Fact]
    public void A_price_table_keys_token_meters_by_model_and_gpu_seconds_by_gpu_type()
    {
        var table = new PriceTable([
            (Meters.OutputTokens, "llama", null, 2.40m),
            (Meters.OutputTokens, "llama", null, 9.99m), // a second price of the same key: the first counts
            (Meters.InputTokens, "llama", null, 0.60m),
            (Meters.GpuSeconds, null, "h100", 4.00m),
        ]);

        Assert.Equal(2.40m, table.PriceOf(Meters.OutputTokens, "llama", null));
        Assert.Equal(2.40m, table.PriceOf(Meters.OutputTokens, "llama", "h100")); // a token meter's GPU type does not count
        Assert.Equal(0.60m, table.PriceOf(Meters.InputTokens, "llama", null));
        Assert.Equal(4.00m, table.PriceOf(Meters.GpuSeconds, "llama", "h100")); // nor gpu_seconds' model
        Assert.Null(table.PriceOf(Meters.CachedInputTokens, "llama", null));
        Assert.Null(table.PriceOf(Meters.GpuSeconds, null, "a100"));
        Assert.Null(table.PriceOf(Meters.OutputTokens, "LLAMA", null));
    }

    [Fact]
    public void Billing_and_Budgets_price_a_day_with_the_same_version()
    {
        var added = new[]
        {
            new RateCardVersionAdded(1, Money.Currency, October, [new RateCardPrice(Meters.OutputTokens, "llama", null, 2.40m)], DateTimeOffset.UnixEpoch, "test"),
            new RateCardVersionAdded(2, Money.Currency, October.AddDays(14), [new RateCardPrice(Meters.OutputTokens, "llama", null, 2.00m)], DateTimeOffset.UnixEpoch, "test"),
            new RateCardVersionAdded(3, Money.Currency, October.AddDays(14), [new RateCardPrice(Meters.OutputTokens, "llama", null, 1.50m)], DateTimeOffset.UnixEpoch, "test"),
        };
        var history = new RateCardHistory(RateCardHistory.StreamKey, added);
        var budgets = new RateCardVersions();
        // Budgets may hear of versions in another order than Billing numbered them.
        foreach (var version in added.Reverse()) budgets.Add(version.ToView());

        foreach (var day in new[] { October.AddDays(-1), October, October.AddDays(13), October.AddDays(14), October.AddDays(40) })
        {
            var price = history.InEffectOn(day)?.PriceOf(Meters.OutputTokens, "llama", null);
            var billed = price is { } p ? PricingRule.Value(Meters.OutputTokens, 3_000_000, p) : 0;
            Assert.Equal(billed, budgets.CostOf(Meters.OutputTokens, "llama", null, 3_000_000, day));
        }
        Assert.Equal(4.50m, budgets.AtMoment(Meters.OutputTokens, "llama", null, 3_000_000, new DateTimeOffset(2026, 10, 15, 0, 0, 0, TimeSpan.Zero)));
        Assert.Equal(7.20m, budgets.AtMoment(Meters.OutputTokens, "llama", null, 3_000_000, new DateTimeOffset(2026, 10, 15, 1, 0, 0, TimeSpan.FromHours(2))));
    }
}
