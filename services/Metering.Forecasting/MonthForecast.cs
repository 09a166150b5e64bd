using System.Globalization;

namespace Metering.Forecasting;

/// <summary>
/// The month-end forecast: actual so far (complete UTC days plus today so far) plus, for the rest of the month, the
/// <see cref="RunRate"/> of each day left; today's remainder counts as the share of today not yet elapsed at today's
/// rate (usage is taken as even over a day). The 80 % interval after h days left (today's remainder included) is
/// ± z · σ · √(h + h²/m): the spread of h single days around the rate plus the rate's own uncertainty, the mean of m
/// days; it widens with the days left and never goes below the actual. No forecast below 3 days with usage in the period.
/// </summary>
public static class MonthForecast
{
    public const int MinUsageDays = 3;

    /// <summary>The two-sided 80 % quantile of the normal distribution.</summary>
    private const decimal Z80 = 1.2815515655m;

    public static ForecastResult Of(ForecastInput input, ForecastUnit unit)
    {
        input.Validate();
        var period = input.Period;
        var cumulativeActuals = Cumulative(input.Actuals);
        var actual = cumulativeActuals[^1];

        if (input.IsPastPeriod)
            return new ForecastResult(period, input.AsOf, actual, actual, actual, actual, ForecastMethods.PeriodComplete,
                $"{period} is over: {unit.Format(actual)} in {period.Days} days is the month's total.",
                cumulativeActuals.Select((a, i) => new ForecastDay(period.FirstDay.AddDays(i), a, null, null, null)).ToArray());

        var usageDays = input.Actuals.Count(v => v > 0);   // a day with only a credit is no usage
        if (usageDays < MinUsageDays)
            return new ForecastResult(period, input.AsOf, actual, null, null, null, ForecastMethods.InsufficientHistory,
                $"{unit.Format(actual)} so far in {period}; no forecast yet: it needs usage on at least {MinUsageDays} days of the month, and there {(usageDays == 1 ? "has been 1" : $"have been {usageDays}")}.",
                Enumerable.Range(0, period.Days).Select(i => new ForecastDay(period.FirstDay.AddDays(i), i < cumulativeActuals.Length ? cumulativeActuals[i] : null, null, null, null)).ToArray());

        var today = input.Today;
        var rate = RunRate.Of(input.History, input.CompleteDays, today);
        var remainderOfToday = 1 - input.ElapsedOfToday;
        var days = new ForecastDay[period.Days];
        for (var i = 0; i < input.CompleteDays; i++)
            days[i] = new ForecastDay(period.FirstDay.AddDays(i), cumulativeActuals[i], null, null, null);

        var expected = actual;
        var lowFloor = actual;
        for (var i = input.CompleteDays; i < period.Days; i++)
        {
            var date = period.FirstDay.AddDays(i);
            var isToday = date == today;
            var share = isToday ? remainderOfToday : 1;
            expected += share * rate.On(date);
            var daysLeft = remainderOfToday + (i - input.CompleteDays);
            var half = Z80 * rate.Sigma * DecimalMath.Sqrt(daysLeft + daysLeft * daysLeft / rate.Sample);
            // Spend through a later day is never less than through an earlier one, so neither is its lower bound.
            lowFloor = Math.Max(lowFloor, expected - half);
            days[i] = new ForecastDay(date, isToday ? actual : null, expected, lowFloor, expected + half);
        }

        var month = days[^1];
        var forecast = month.Forecast!.Value;
        return new ForecastResult(period, input.AsOf, actual, forecast, month.Low, month.High, rate.Method,
            Explain(input, rate, actual, forecast, month.Low!.Value, month.High!.Value, unit), days);
    }

    private static string Explain(ForecastInput input, RunRate rate, decimal actual, decimal forecast, decimal low, decimal high, ForecastUnit unit)
    {
        var elapsed = Math.Round(input.CompleteDays + input.ElapsedOfToday, 1, MidpointRounding.ToEven);
        var left = input.Period.Days - elapsed;
        var perDay = (forecast - actual) / (input.Period.Days - input.CompleteDays - input.ElapsedOfToday);
        var basis = rate.Method == ForecastMethods.DayOfWeekRunRate
            ? $"weekday-adjusted from the last {rate.Weeks} weeks"
            : $"the mean of the last {rate.Sample} complete {(rate.Sample == 1 ? "day" : "days")}";
        return $"{unit.Format(actual)} in {Days(elapsed)} + {Days(left)} at {unit.Format(perDay)}/day ({basis}) = {unit.Format(forecast)}; "
            + $"80 % between {unit.Format(low)} and {unit.Format(high)}.";
    }

    private static string Days(decimal days) =>
        days.ToString("0.#", CultureInfo.InvariantCulture) + (days == 1 ? " day" : " days");

    private static decimal[] Cumulative(IReadOnlyList<decimal> values)
    {
        var sums = new decimal[values.Count];
        var running = 0m;
        for (var i = 0; i < values.Count; i++) sums[i] = running += values[i];
        return sums;
    }
}
