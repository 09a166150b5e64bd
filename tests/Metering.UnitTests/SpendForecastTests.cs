using Metering.Billing.Forecast;
using Metering.Billing.RateCards;
using Metering.Billing.Spend;
using Metering.Forecasting;

namespace Metering.UnitTests;

/// <summary>
/// Billing's forecast from spend rows: the actual is the spend API's daily numbers (each day's version, rounded per
/// point), the history is priced with the version in effect on the as-of day, the as-of day counts only its share
/// before the as-of moment, and the parameters are checked field by field.
/// </summary>
public sealed class SpendForecastTests
{
    private static readonly ForecastPeriod October = new(2026, 10);
    private static readonly DateOnly First = October.FirstDay;
    private static readonly DateTimeOffset Later = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);

    // 2.00 per million output tokens from October 1st, 3.00 from the 15th.
    private static readonly RateCardHistory RateCards = new(RateCardHistory.StreamKey,
    [
        new RateCardVersionAdded(1, "USD", First, [new RateCardPrice(Meters.OutputTokens, "llama", null, 2.00m)], DateTimeOffset.UnixEpoch, "test"),
        new RateCardVersionAdded(2, "USD", First.AddDays(14), [new RateCardPrice(Meters.OutputTokens, "llama", null, 3.00m)], DateTimeOffset.UnixEpoch, "test"),
    ]);

    private static DateTimeOffset At(int day, int hour = 0) => new(2026, 10, day, hour, 0, 0, TimeSpan.Zero);

    private static SpendRow Tokens(string? key, DateOnly day, decimal quantity) => new(key, day, Meters.OutputTokens, "llama", null, quantity);

    private static decimal Money(string? text) => decimal.Parse(text!, System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void The_actual_is_spend_priced_each_day_and_the_days_left_are_priced_with_the_rate_card_of_the_as_of_day()
    {
        // A million tokens on each of the 19 days before the 20th: 14 days at 2.00 and 5 at 3.00 are 43.00 spent; the
        // run rate is the history re-priced at 3.00, so the 12 days left add 36.00.
        var rows = Enumerable.Range(0, 19).Select(i => Tokens("acme", First.AddDays(i), 1_000_000)).ToList();
        var request = new ForecastRequest(October, At(20), Tenant: "acme");

        var view = SpendForecast.Of(request, rows, RateCards, Later);

        Assert.Equal(("2026-10", "43.00", "79.00", "79.00", "79.00", "0.8"), (view.Period, view.Actual, view.Forecast, view.Low, view.High, view.Interval));
        Assert.Equal(ForecastMethods.ProRataRunRate, view.Method);
        Assert.Equal(At(20), view.AsOf);
        Assert.Equal("$43.00 in 19 days + 12 days at $3.00/day (the mean of the last 19 complete days) = $79.00; 80 % between $79.00 and $79.00; "
            + "the days left are priced with the rate card in effect on 2026-10-20.", view.Explanation);
        // The spend API's total of those days is the actual, to the cent.
        var spend = SpendPricing.Price(new SpendRequest(First, First.AddDays(18), SpendGroups.Tenant, SpendGranularity.Day, "acme"), rows, RateCards);
        Assert.Equal(spend.Total, view.Actual);
        Assert.Equal(31, view.Days.Count);
        Assert.Equal(("2026-10-14", "28.00", (string?)null), (view.Days[13].Date, view.Days[13].Actual, view.Days[13].Forecast));
        Assert.Equal(("2026-10-20", "43.00", "46.00"), (view.Days[19].Date, view.Days[19].Actual, view.Days[19].Forecast));
        Assert.Equal("79.00", view.Days[^1].Forecast);
    }

    [Fact]
    public void Uneven_days_give_what_the_library_computes_for_the_spend_series()
    {
        var quantities = new[] { 900_000m, 1_400_000m, 0m, 2_100_000m, 1_000_000m, 700_000m, 1_300_000m, 1_600_000m, 1_100_000m, 800_000m };
        var rows = quantities.Select((q, i) => Tokens("nlp", First.AddDays(5 + i), q)).Where(r => r.Quantity != 0).ToList();
        var request = new ForecastRequest(October, At(16, 6));

        var view = SpendForecast.Of(request, rows, RateCards, Later);

        // The 6th to the 14th at 2.00, the 15th at 3.00; the history all at 3.00 (the version of the 16th).
        var actuals = quantities.Select((q, i) => (Day: First.AddDays(5 + i), Cost: q / 1_000_000 * (i < 9 ? 2.00m : 3.00m))).ToDictionary(x => x.Day, x => x.Cost);
        var history = quantities.Select((q, i) => (Day: First.AddDays(5 + i), Cost: q / 1_000_000 * 3.00m)).ToDictionary(x => x.Day, x => x.Cost);
        var expected = MonthForecast.Of(ForecastInput.FromDays(October, At(16, 6), actuals, history), ForecastUnit.Dollars);
        Assert.Equal(Math.Round(expected.Actual, 2), Money(view.Actual));
        Assert.Equal(Math.Round(expected.Forecast!.Value, 2, MidpointRounding.ToEven), Money(view.Forecast));
        Assert.Equal(Math.Round(expected.Low!.Value, 2, MidpointRounding.ToEven), Money(view.Low));
        Assert.Equal(Math.Round(expected.High!.Value, 2, MidpointRounding.ToEven), Money(view.High));
        Assert.True(Money(view.Low) < Money(view.Forecast) && Money(view.Forecast) < Money(view.High));
        Assert.StartsWith(expected.Explanation[..^1], view.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void The_actual_sums_the_rounded_points_of_each_group_like_the_spend_API()
    {
        // 1,667 tokens at 2.00 are 0.003334: each team's point rounds to 0.00, so the platform spent 0.00, not 0.01.
        var rows = new[] { Tokens("nlp", First, 1_667), Tokens("vision", First, 1_667), Tokens("research", First, 1_667) };

        var view = SpendForecast.Of(new ForecastRequest(October, At(2)), rows, RateCards, Later);

        Assert.Equal("0.00", view.Actual);
        Assert.Equal(SpendPricing.Price(new SpendRequest(First, First, SpendGroups.Team, SpendGranularity.Day), rows, RateCards).Total, view.Actual);
    }

    [Theory]
    [InlineData(12, 18, "2.40")]   // today so far, 18 h recorded: 12 of them are before the as-of moment
    [InlineData(12, 48, "1.80")]   // the day is over: half of it was before noon
    [InlineData(0, 48, "0.00")]    // at midnight nothing of the day counts
    [InlineData(18, 18, "3.60")]   // as of now: all of today so far
    public void The_as_of_day_counts_the_share_of_its_spend_before_the_as_of_moment(int hour, int nowHours, string expected)
    {
        var rows = new[] { Tokens("acme", First.AddDays(19), 1_200_000) };   // 3.60 on the 20th

        var view = SpendForecast.Of(new ForecastRequest(October, At(20, hour)), rows, RateCards, At(20).AddHours(nowHours));

        Assert.Equal(expected, view.Actual);
    }

    [Fact]
    public void Fewer_than_three_days_with_usage_give_no_forecast_and_say_why()
    {
        var rows = new[] { Tokens("acme", First.AddDays(2), 1_000_000), Tokens("acme", First.AddDays(4), 1_000_000) };

        var view = SpendForecast.Of(new ForecastRequest(October, At(10), Tenant: "acme"), rows, RateCards, Later);

        Assert.Equal(("4.00", (string?)null, (string?)null, (string?)null), (view.Actual, view.Forecast, view.Low, view.High));
        Assert.Equal(ForecastMethods.InsufficientHistory, view.Method);
        Assert.Contains("at least 3 days", view.Explanation, StringComparison.Ordinal);
        Assert.Equal("4.00", view.Days[9].Actual);
        Assert.All(view.Days.Skip(10), d => Assert.Null(d.Actual));
    }

    [Fact]
    public void A_period_that_is_over_is_its_actual_total_and_reads_only_its_own_days()
    {
        var request = new ForecastRequest(October, new DateTimeOffset(2026, 11, 5, 0, 0, 0, TimeSpan.Zero));
        var rows = new[] { Tokens("a", First, 1_000_000), Tokens("a", October.LastDay, 1_000_000), Tokens("a", October.LastDay.AddDays(1), 5_000_000) };

        var view = SpendForecast.Of(request, rows, RateCards, Later);

        Assert.Equal(("5.00", "5.00", "5.00", "5.00", ForecastMethods.PeriodComplete), (view.Actual, view.Forecast, view.Low, view.High, view.Method));
        Assert.Equal((First, October.LastDay, SpendGroups.Team), (request.ToSpendRequest().From, request.ToSpendRequest().To, request.ToSpendRequest().GroupBy));
    }

    [Fact]
    public void The_rows_read_reach_back_to_the_librarys_history_start_by_tenant_or_by_team()
    {
        var byTenant = new ForecastRequest(October, At(20, 9), Tenant: "acme").ToSpendRequest();
        var byTeam = new ForecastRequest(October, At(20, 9), Team: "nlp").ToSpendRequest();

        Assert.Equal((ForecastInput.HistoryStart(October, At(20, 9)), First.AddDays(19), SpendGroups.Tenant, "acme"), (byTenant.From, byTenant.To, byTenant.GroupBy, byTenant.Tenant));
        Assert.Equal((SpendGroups.Team, "nlp", (string?)null), (byTeam.GroupBy, byTeam.Team, byTeam.Tenant));
    }

    private static readonly DateTimeOffset Now = new(2026, 11, 20, 15, 30, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("2026-13", null, null, null, "period")]
    [InlineData("2026-1", null, null, null, "period")]
    [InlineData("1999-12", null, null, null, "period")]
    [InlineData("2026-12", null, null, null, "period")]                      // after the current month
    [InlineData("2026-11", "Not A Tenant", null, null, "tenant")]
    [InlineData("2026-11", null, "%", null, "team")]
    [InlineData("2026-11", "acme", "nlp", null, "team,tenant")]
    [InlineData("2026-11", null, null, "2026-11-20", "as_of")]
    [InlineData("2026-11", null, null, "2026-11-20T10:00:00", "as_of")]       // no offset
    [InlineData("2026-11", null, null, "2026-11-20T15:31:00Z", "as_of")]      // in the future
    [InlineData("2026-11", null, null, "2026-10-31T23:59:59Z", "as_of")]      // before the period
    [InlineData("2026-11", null, null, "2026-11-01T00:30:00+01:00", "as_of")] // 2026-10-31T23:30Z
    [InlineData("2026-10", null, null, "2026-11-20T15:30:00Z,2026-11-20T15:30:00Z", "as_of")]
    public void A_bad_parameter_is_named(string period, string? tenant, string? team, string? asOf, string fields)
    {
        var (request, errors) = GetForecast.Read(period, tenant, team, asOf, Now);

        Assert.Null(request);
        Assert.Equal(fields.Split(','), errors.Keys.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("2026-11", null, "2026-11-20T15:30:00Z")]
    [InlineData("2026-11", "2026-11-01T00:00:00Z", "2026-11-01T00:00:00Z")]
    [InlineData("2026-10", "2026-11-01T09:00:00+09:00", "2026-11-01T00:00:00Z")]   // the period is over
    [InlineData("2026-02", "2026-02-10T12:00:00.5Z", "2026-02-10T12:00:00.5Z")]
    public void A_good_request_is_read_with_its_as_of_moment(string period, string? asOf, string expected)
    {
        var (request, errors) = GetForecast.Read(period, "acme", null, asOf, Now);

        Assert.Empty(errors);
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), request!.AsOf);
        Assert.Equal(period, request.Period.ToString());
    }
}
