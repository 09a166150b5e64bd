using System.Globalization;
using Marten;
using Metering.Billing.Chargeback.Teams;
using Metering.Billing.Forecast;
using Metering.Billing.RateCards;
using Metering.Billing.Spend;
using Metering.Forecasting;

namespace Metering.Billing.Benchmarks;

/// <summary>
/// <c>Metering.Billing.Benchmarks backtest</c>: how the month-end spend forecast would have done on the spend a store recorded.
/// For every tenant and complete month from its first month with usage, the forecast <c>GET /v1/forecast</c> makes as
/// of the end of day 10 and day 20 (as of the next midnight UTC, from the spend recorded now) against the month's
/// spend, summarized per team the tenant is mapped to now and for all tenants: mean absolute percentage error and
/// the share of months inside the 80 % interval.
/// </summary>
public static class SpendBacktest
{
    private static readonly BacktestTable Table = new("team", 24);

    public static async Task<string> RunAsync(IDocumentStore store, SpendQuery query, DateTimeOffset now, CancellationToken ct)
    {
        var header = string.Create(CultureInfo.InvariantCulture, $"forecast backtest over the store's spend {now.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z");
        var lastMonth = ForecastPeriod.Of(DateOnly.FromDateTime(now.UtcDateTime).AddMonths(-1));
        if (await query.RecordedDaysAsync(ct) is not { } days || days.First > lastMonth.LastDay)
            return $"{header}: no complete month of spend recorded";
        var firstMonth = ForecastPeriod.Of(days.First);
        var (rows, rateCards) = await query.ReadAsync(new SpendRequest(firstMonth.FirstDay.AddDays(-ForecastInput.HistoryDays), lastMonth.LastDay,
            SpendGroups.Tenant, SpendGranularity.Day), ct);
        await using var session = store.QuerySession();
        var directory = await TeamDirectory.LoadAsync(session, ct);
        var points = Points(rows, rateCards, lastMonth, now);

        var report = new List<string>
        {
            $"{header}: {points.Select(p => p.Tenant).Distinct().Count()} tenants, {firstMonth} to {lastMonth}; forecasts made after day "
                + string.Join(" and ", Backtest.DefaultDays) + " of each month, grouped by the tenant's team now",
            Table.Header,
        };
        foreach (var team in points.GroupBy(p => directory.TeamOf(p.Tenant)).OrderBy(g => g.Key, StringComparer.Ordinal))
            report.Add(Table.Row(team.Key, BacktestSummary.Of(team.Select(p => p.Point))));
        report.Add(Table.Row("all", BacktestSummary.Of(points.Select(p => p.Point))));
        report.Add("MAPE: mean |forecast − actual| / actual of the month's spend; a month without a forecast (under 3 days with usage) counts in neither column.");
        return string.Join(Environment.NewLine, report);
    }

    /// <summary>
    /// Per tenant (the rows' key), the forecasts of each month from its first month with usage through
    /// <paramref name="lastMonth"/>, made as <see cref="SpendForecast.Result"/> makes them, against the month's spend.
    /// </summary>
    public static IReadOnlyList<(string Tenant, BacktestPoint Point)> Points(IEnumerable<SpendRow> rows, RateCardHistory? rateCards, ForecastPeriod lastMonth, DateTimeOffset now)
    {
        var points = new List<(string, BacktestPoint)>();
        foreach (var tenant in rows.Where(r => r.Key is not null).GroupBy(r => r.Key!, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var own = tenant.ToList();
            if (own.Where(r => r.Quantity > 0).Select(r => (DateOnly?)r.Day).Min() is not { } firstUsage) continue;
            for (var period = ForecastPeriod.Of(firstUsage); period.FirstDay <= lastMonth.FirstDay; period = ForecastPeriod.Of(period.FirstDay.AddMonths(1)))
            {
                var total = SpendPricing.DailyCosts(own.Where(r => r.Day >= period.FirstDay && r.Day <= period.LastDay), rateCards).Values.Sum();
                foreach (var day in Backtest.DefaultDays)
                {
                    var asOf = new DateTimeOffset(period.FirstDay.AddDays(day).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
                    var result = SpendForecast.Result(new ForecastRequest(period, asOf, tenant.Key), own, rateCards, now);
                    points.Add((tenant.Key, new BacktestPoint(period, day, total, result.Forecast, result.Low, result.High)));
                }
            }
        }
        return points;
    }
}
