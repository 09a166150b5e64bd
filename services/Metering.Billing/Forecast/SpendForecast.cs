using Metering.Billing.Spend;
using Metering.Forecasting;

namespace Metering.Billing.Forecast;

/// <summary>What <c>GET /v1/forecast/{period}</c> asks, checked: the platform, one tenant or one team's subtree (<see cref="Team"/>).</summary>
public sealed record ForecastRequest(ForecastPeriod Period, DateTimeOffset AsOf, string? Tenant = null, string? Team = null)
{
    public DateOnly AsOfDay => DateOnly.FromDateTime(AsOf.UtcDateTime);

    public bool IsPastPeriod => AsOfDay > Period.LastDay;

    /// <summary>The last day whose spend counts as actual: the as-of day, or the period's last day once it is over.</summary>
    public DateOnly LastActualDay => IsPastPeriod ? Period.LastDay : AsOfDay;

    /// <summary>The first day read: the library's history start (none is needed once the period is over).</summary>
    public DateOnly FirstDayRead => IsPastPeriod ? Period.FirstDay : ForecastInput.HistoryStart(Period, AsOf);

    /// <summary>
    /// The spend rows to read: by tenant for one tenant, else by team (the spend API's numbers with that grouping,
    /// read from the team rollup), from <see cref="FirstDayRead"/> through <see cref="LastActualDay"/>.
    /// </summary>
    public SpendRequest ToSpendRequest() =>
        new(FirstDayRead, LastActualDay, Tenant is null ? SpendGroups.Team : SpendGroups.Tenant, SpendGranularity.Day, Tenant, Team);
}

/// <summary>
/// The month-end spend forecast from the spend rows, without I/O: the actual is each day's spend as <c>GET /v1/spend</c>
/// prices it (the version in effect each day); the history the run rate reads is the same kind of rows over the
/// library's last weeks priced with the version in effect on the as-of day, so the days left are priced with the rate
/// card in effect then. Amounts are rounded half-even to cents only in the view.
/// </summary>
public static class SpendForecast
{
    /// <param name="rows">The rows of <see cref="ForecastRequest.ToSpendRequest"/>.</param>
    /// <param name="now">When the rows were read: see <see cref="Result"/>.</param>
    public static ForecastView Of(ForecastRequest request, IEnumerable<SpendRow> rows, RateCardHistory? rateCards, DateTimeOffset now)
    {
        var result = Result(request, rows, rateCards, now);
        return new ForecastView(result.Period.ToString(), request.AsOf.ToUniversalTime(), Cents(result.Actual), Cents(result.Forecast), Cents(result.Low), Cents(result.High),
            ForecastResult.Interval.ToString(CultureInfo.InvariantCulture), result.Method, Explanation(result, request.AsOfDay),
            result.Days.Select(d => new ForecastDayView(Day(d.Date), Cents(d.Actual), Cents(d.Forecast), Cents(d.Low), Cents(d.High))).ToList());
    }

    /// <summary>The library's forecast, in exact amounts (the endpoint rounds them, the backtest compares them).</summary>
    /// <param name="rows">Rows of at least the days of <see cref="ForecastRequest.ToSpendRequest"/>; other days are ignored.</param>
    /// <param name="now">When the rows were read. The spend tables count usage per day, so the as-of day's spend covers
    /// its usage up to now (or the day's end): of that, the share before the as-of moment counts, usage taken as even
    /// over that time; with the as-of moment now, all of it; at midnight, none.</param>
    public static ForecastResult Result(ForecastRequest request, IEnumerable<SpendRow> rows, RateCardHistory? rateCards, DateTimeOffset now)
    {
        var period = request.Period;
        var all = rows as IReadOnlyCollection<SpendRow> ?? rows.ToList();
        var actuals = new Dictionary<DateOnly, decimal>(SpendPricing.DailyCosts(all.Where(r => r.Day >= period.FirstDay && r.Day <= request.LastActualDay), rateCards));
        var history = request.IsPastPeriod ? new Dictionary<DateOnly, decimal>()
            : SpendPricing.DailyCosts(all.Where(r => r.Day >= request.FirstDayRead && r.Day < request.AsOfDay), rateCards, pricedOn: request.AsOfDay);
        if (!request.IsPastPeriod && actuals.TryGetValue(request.AsOfDay, out var today))
            actuals[request.AsOfDay] = today * ShareBefore(request.AsOf, now);
        return MonthForecast.Of(ForecastInput.FromDays(period, request.AsOf, actuals, history), ForecastUnit.Dollars);
    }

    /// <summary>The share of the as-of day's recorded spend that lies before the as-of moment.</summary>
    private static decimal ShareBefore(DateTimeOffset asOf, DateTimeOffset now)
    {
        var start = asOf.UtcDateTime.Date;
        var recordedUntil = new DateTime(Math.Min(now.UtcDateTime.Ticks, start.AddDays(1).Ticks), DateTimeKind.Utc);
        var recorded = (recordedUntil - start).Ticks;
        return recorded <= 0 ? 1m : Math.Min(1m, (decimal)(asOf.UtcDateTime - start).Ticks / recorded);
    }

    /// <summary>The library's sentence, saying what the days left are priced with when they are forecast.</summary>
    private static string Explanation(ForecastResult result, DateOnly asOfDay) =>
        result.Method is ForecastMethods.DayOfWeekRunRate or ForecastMethods.ProRataRunRate && result.Explanation.EndsWith('.')
            ? $"{result.Explanation[..^1]}; the days left are priced with the rate card in effect on {Day(asOfDay)}."
            : result.Explanation;

    private static string Day(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>A forecast amount (exact) as money: rounded half-even to cents.</summary>
    private static string? Cents(decimal? amount) => amount is { } a ? Money.Format(PricingRule.ToCents(a)) : null;

    private static string Cents(decimal amount) => Cents((decimal?)amount)!;
}
