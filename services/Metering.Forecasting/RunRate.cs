namespace Metering.Forecasting;

/// <summary>
/// The expected amount of each future day, and how far single days stray from it.
/// With at least <see cref="MinWeeks"/> whole weeks of history: the mean of the last 7 complete days (one of each
/// weekday), times each weekday's share of the last ≤ <see cref="MaxWeeks"/> weeks. With less: the mean of the
/// period's complete days (since the first usage), for every day. Before either, a day above <see cref="SpikeCap"/>
/// times the median of its peers (the same weekday's last 3 weeks, or the period's days) counts at that cap, so one
/// spike does not set the rate; a lasting step passes the cap within a few weeks.
/// </summary>
/// <param name="ByWeekday">The expected amount of a day, indexed by <see cref="DayOfWeek"/>.</param>
/// <param name="Sigma">The standard deviation of past days around their weekday's (or the period's) mean.</param>
/// <param name="Sample">How many days the rate is the mean of: its own uncertainty is Sigma / √Sample.</param>
/// <param name="Weeks">Weeks of history the weekday factors come from; 0 for pro rata.</param>
public sealed record RunRate(string Method, IReadOnlyList<decimal> ByWeekday, decimal Sigma, int Sample, int Weeks)
{
    public const int MinWeeks = 3;
    public const int MaxWeeks = 8;
    public const decimal SpikeCap = 3m;

    public decimal On(DateOnly day) => ByWeekday[(int)day.DayOfWeek];

    /// <summary>The rate for the days after <paramref name="history"/>, whose last value is the day before <paramref name="today"/>.</summary>
    public static RunRate Of(IReadOnlyList<decimal> history, int completeDaysOfPeriod, DateOnly today)
    {
        // Days before the first usage are no history: as zeros they would bend the weekday factors of a new tenant.
        var firstUsage = 0;
        while (firstUsage < history.Count && history[firstUsage] == 0) firstUsage++;
        var used = history.Skip(firstUsage).ToArray();
        return used.Length >= MinWeeks * 7 ? DayOfWeek(used, today) : ProRata(used, completeDaysOfPeriod);
    }

    private static RunRate DayOfWeek(IReadOnlyList<decimal> history, DateOnly today)
    {
        var weeks = Math.Min(MaxWeeks, history.Count / 7);
        var window = history.Skip(history.Count - weeks * 7).ToArray();
        // window[i] is the day today - window.Length + i.
        int Weekday(int i) => (int)today.AddDays(i - window.Length).DayOfWeek;
        var byWeekday = Enumerable.Range(0, window.Length).GroupBy(Weekday).ToDictionary(g => g.Key, g => g.Select(i => window[i]).ToArray());

        var capped = new decimal[window.Length];
        for (var i = 0; i < window.Length; i++)
            capped[i] = Cap(window[i], byWeekday[Weekday(i)][^MinWeeks..]);

        var overall = capped.Sum() / capped.Length;
        var level = capped[^7..].Sum() / 7;
        var scale = overall == 0 ? 0 : level / overall;
        var rates = new decimal[7];
        for (var d = 0; d < 7; d++)
            rates[d] = Math.Max(0, scale * Enumerable.Range(0, window.Length).Where(i => Weekday(i) == d).Average(i => capped[i]));

        var deviations = byWeekday.Values.SelectMany(values => values.Select(v => v - values.Average())).ToArray();
        var sigma = DecimalMath.StandardDeviation(deviations, window.Length - 7);
        return new RunRate(ForecastMethods.DayOfWeekRunRate, rates, sigma, 7, weeks);
    }

    private static RunRate ProRata(IReadOnlyList<decimal> history, int completeDaysOfPeriod)
    {
        var days = history.Skip(Math.Max(0, history.Count - completeDaysOfPeriod)).ToArray();
        if (days.Length == 0) return new RunRate(ForecastMethods.ProRataRunRate, new decimal[7], 0, 1, 0);
        var rate = Math.Max(0, days.Select(v => Cap(v, days)).Sum() / days.Length);
        var mean = days.Average();
        var sigma = DecimalMath.StandardDeviation(days.Select(v => v - mean).ToArray(), days.Length - 1);
        return new RunRate(ForecastMethods.ProRataRunRate, Enumerable.Repeat(rate, 7).ToArray(), sigma, days.Length, 0);
    }

    private static decimal Cap(decimal value, IReadOnlyList<decimal> peers)
    {
        var median = DecimalMath.Median(peers);
        // A zero median (sparse usage) caps nothing: capping there would erase every day with usage.
        return median > 0 ? Math.Min(value, SpikeCap * median) : value;
    }
}
