using Metering.Forecasting;

namespace Metering.LoadGenerator.Benchmarks;

public sealed record ForecastBenchmarkOptions
{
    public int Seed { get; init; } = 42;
    public int TenantsPerProfile { get; init; } = 50;
    /// <summary>Months of synthetic usage per tenant, ending with <see cref="LastMonth"/>.</summary>
    public int Months { get; init; } = 13;
    /// <summary>Fixed, not the current month, so that a run gives the same figures any day: weekdays fall on the same dates.</summary>
    public ForecastPeriod LastMonth { get; init; } = new(2026, 11);
}

/// <summary>
/// <c>./metering bench forecast</c>: the forecast's backtest (<see cref="Backtest"/>) over synthetic fleets generated
/// with a fixed seed, one profile of usage at a time: the mean absolute percentage error of the month-end forecast
/// made after day 10 and day 20 of every month, and the share of months whose total fell inside the 80 % interval.
/// </summary>
public static class ForecastBenchmark
{
    private static readonly BacktestTable Table = new("profile", 8);

    public static int Run(ForecastBenchmarkOptions options, TextWriter output, BenchmarkSummary? summary = null)
    {
        var lastMonth = options.LastMonth;
        var first = lastMonth.FirstDay.AddMonths(1 - options.Months);
        var days = lastMonth.LastDay.DayNumber - first.DayNumber + 1;
        output.WriteLine($"forecast backtest {DateTime.UtcNow:yyyy-MM-dd HH:mm:ss}Z: {SyntheticUsage.Profiles.Count} profiles × {options.TenantsPerProfile} tenants × "
            + $"{options.Months} months ({ForecastPeriod.Of(first)} to {lastMonth}), seed {options.Seed}; forecasts made after day "
            + string.Join(" and ", Backtest.DefaultDays) + " of each month");
        output.WriteLine(Table.Header);

        var random = new Random(options.Seed);
        var all = new List<BacktestPoint>();
        foreach (var profile in SyntheticUsage.Profiles)
        {
            var points = new List<BacktestPoint>();
            for (var tenant = 0; tenant < options.TenantsPerProfile; tenant++)
            {
                var usage = profile.NewTenant(random, first, days);
                points.AddRange(Backtest.Of(new DailySeries(first, usage), Backtest.DefaultDays));
            }
            output.WriteLine(Table.Row(profile.Name, BacktestSummary.Of(points)));
            all.AddRange(points);
        }
        output.WriteLine(Table.Row("all", BacktestSummary.Of(all)));
        foreach (var day in BacktestSummary.Of(all))
        {
            summary?.Add($"after day {day.MadeAfterDay} mape", day.MeanAbsolutePercentageError is { } mape ? (double)mape * 100 : double.NaN, "%", "F1");
            summary?.Add($"after day {day.MadeAfterDay} interval coverage", day.IntervalCoverage is { } coverage ? (double)coverage * 100 : double.NaN, "%", "F1");
        }
        output.WriteLine("MAPE: mean |forecast − actual| / actual of the month's total; a month without a forecast (under 3 days with usage) counts in neither column.");
        return 0;
    }

}

/// <summary>A kind of tenant: how its daily usage is drawn, for <paramref name="Days"/> days from a first day.</summary>
public sealed record SyntheticUsage(string Name, Func<Random, DateOnly, int, decimal[]> NewTenant)
{
    public static IReadOnlyList<SyntheticUsage> Profiles { get; } =
    [
        new("flat", (random, first, days) =>
        {
            var b = Base(random);
            return Draw(days, _ => b, random);
        }),
        new("weekly", (random, first, days) =>
        {
            var b = Base(random);
            return Draw(days, i => b * Weekly(first.AddDays(i)), random);
        }),
        new("growth", (random, first, days) =>
        {
            var b = Base(random);
            var weekly = 1 + (decimal)random.NextDouble() * 0.04m;   // 0 to 4 % a week
            return Draw(days, i => b * Weekly(first.AddDays(i)) * Power(weekly, i / 7), random);
        }),
        new("step", (random, first, days) =>
        {
            var b = Base(random);
            var at = random.Next(days);
            var factor = 0.4m + (decimal)random.NextDouble() * 2.1m;   // the level changes to 0.4× to 2.5×
            return Draw(days, i => i < at ? b : b * factor, random);
        }),
        new("spikes", (random, first, days) =>
        {
            var b = Base(random);
            var spikes = Enumerable.Range(0, days).Select(_ => random.NextDouble() < 0.03 ? 5 + random.Next(11) : 1).ToArray();
            return Draw(days, i => b * spikes[i], random);
        }),
    ];

    private static decimal Base(Random random) => 50 + random.Next(451);

    private static decimal Weekly(DateOnly day) => day.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday ? 0.25m : 1m;

    private static decimal Power(decimal value, int exponent)
    {
        var result = 1m;
        for (var i = 0; i < exponent; i++) result *= value;
        return result;
    }

    /// <summary>Each day's expected amount with ± 10 % normal noise, in cents, never negative.</summary>
    private static decimal[] Draw(int days, Func<int, decimal> expected, Random random) =>
        Enumerable.Range(0, days).Select(i => Math.Max(0, Math.Round(expected(i) * (1 + 0.1m * Normal(random)), 2))).ToArray();

    private static decimal Normal(Random random)
    {
        // Box–Muller; the noise only shapes synthetic usage, no amount is computed in floating point.
        var u = 1 - random.NextDouble();
        return (decimal)(Math.Sqrt(-2 * Math.Log(u)) * Math.Cos(2 * Math.PI * random.NextDouble()));
    }
}
