namespace Metering.Forecasting;

/// <summary>
/// How the forecast would have done: for each complete month of a daily history, the forecast made at the end of
/// day N (as of day N+1, 00:00 UTC, with N complete days) against the month's actual total.
/// </summary>
public static class Backtest
{
    public static readonly IReadOnlyList<int> DefaultDays = [10, 20];

    public static IReadOnlyList<BacktestPoint> Of(DailySeries history, IReadOnlyList<int> madeAfterDays)
    {
        var points = new List<BacktestPoint>();
        for (var period = ForecastPeriod.Of(history.FirstDay); period.LastDay <= history.LastDay; period = ForecastPeriod.Of(period.LastDay.AddDays(1)))
        {
            if (period.FirstDay < history.FirstDay) continue;
            var total = history.Between(period.FirstDay, period.LastDay.AddDays(1)).Sum();
            foreach (var day in madeAfterDays)
            {
                var today = period.FirstDay.AddDays(day);
                var actuals = history.Between(period.FirstDay, today).Append(0m).ToArray();
                var past = history.Between(today.AddDays(-RunRate.MaxWeeks * 7), today);
                var asOf = new DateTimeOffset(today.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
                var result = MonthForecast.Of(new ForecastInput(period, asOf, actuals, past), ForecastUnit.Named("units"));
                points.Add(new BacktestPoint(period, day, total, result.Forecast, result.Low, result.High));
            }
        }
        return points;
    }
}

/// <summary>One forecast of a past month, made after <see cref="MadeAfterDay"/> complete days.</summary>
public sealed record BacktestPoint(ForecastPeriod Period, int MadeAfterDay, decimal ActualTotal, decimal? Forecast, decimal? Low, decimal? High)
{
    /// <summary>|forecast − actual| / actual; null without a forecast or when the month had no usage.</summary>
    public decimal? AbsolutePercentageError =>
        Forecast is { } forecast && ActualTotal != 0 ? Math.Abs(forecast - ActualTotal) / Math.Abs(ActualTotal) : null;

    public bool? Covered => Forecast is null ? null : Low <= ActualTotal && ActualTotal <= High;
}

/// <summary>The forecasts made after one day of the month, over many months (and series).</summary>
/// <param name="Months">Months tried.</param>
/// <param name="Forecasts">Months that got a forecast (the rest had fewer than 3 days with usage).</param>
/// <param name="MeanAbsolutePercentageError">Over the forecasts of months with usage; null when there are none.</param>
/// <param name="IntervalCoverage">The share of forecasts whose 80 % interval held the month's actual total.</param>
public sealed record BacktestSummary(int MadeAfterDay, int Months, int Forecasts, decimal? MeanAbsolutePercentageError, decimal? IntervalCoverage)
{
    public static IReadOnlyList<BacktestSummary> Of(IEnumerable<BacktestPoint> points) =>
        points.GroupBy(p => p.MadeAfterDay).OrderBy(g => g.Key).Select(g =>
        {
            var errors = g.Select(p => p.AbsolutePercentageError).OfType<decimal>().ToArray();
            var covered = g.Select(p => p.Covered).OfType<bool>().ToArray();
            return new BacktestSummary(g.Key, g.Count(), covered.Length,
                errors.Length == 0 ? null : errors.Average(),
                covered.Length == 0 ? null : (decimal)covered.Count(c => c) / covered.Length);
        }).ToArray();
}

/// <summary>
/// The table a backtest prints: a row per group of tenants (a usage profile, a team) with its months, the mean
/// absolute percentage error and the share of months inside the 80 % interval of the forecasts made after day 10 and day 20.
/// </summary>
public sealed record BacktestTable(string GroupColumn, int GroupWidth)
{
    public string Header =>
        $"{GroupColumn.PadRight(GroupWidth)} {"months",7} {"MAPE@day10",11} {"MAPE@day20",11} {"in 80 %@day10",14} {"in 80 %@day20",14}";

    public string Row(string group, IReadOnlyList<BacktestSummary> summaries)
    {
        var day10 = summaries.Single(s => s.MadeAfterDay == 10);
        var day20 = summaries.Single(s => s.MadeAfterDay == 20);
        return $"{group.PadRight(GroupWidth)} {day10.Months,7} {Percent(day10.MeanAbsolutePercentageError),11} {Percent(day20.MeanAbsolutePercentageError),11} "
            + $"{Percent(day10.IntervalCoverage),14} {Percent(day20.IntervalCoverage),14}";
    }

    private static string Percent(decimal? share) =>
        share is { } s ? (s * 100).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture) + " %" : "-";
}
