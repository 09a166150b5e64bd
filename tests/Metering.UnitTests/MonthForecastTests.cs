using Metering.Forecasting;

namespace Metering.UnitTests;

public class MonthForecastTests
{
    private static readonly ForecastPeriod November = new(2026, 11);   // 30 days, starts on a Sunday

    /// <summary>
    /// The forecast's input for usage given per day: actuals of the period through the as-of day (today's share of its
    /// day so far) and <paramref name="historyDays"/> complete days before today.
    /// </summary>
    private static ForecastInput Input(ForecastPeriod period, DateTimeOffset asOf, Func<DateOnly, decimal> usage, int historyDays = 56)
    {
        var today = DateOnly.FromDateTime(asOf.UtcDateTime);
        var past = today > period.LastDay;
        var elapsed = (decimal)asOf.UtcDateTime.TimeOfDay.Ticks / TimeSpan.TicksPerDay;
        var actuals = new List<decimal>();
        for (var day = period.FirstDay; day <= (past ? period.LastDay : today); day = day.AddDays(1))
            actuals.Add(!past && day == today ? usage(day) * elapsed : usage(day));
        var end = past ? period.LastDay.AddDays(1) : today;
        var history = Enumerable.Range(1, historyDays).Reverse().Select(i => usage(end.AddDays(-i))).ToArray();
        return new ForecastInput(period, asOf, actuals, history);
    }

    private static DateTimeOffset At(int year, int month, int day, int hour = 0) => new(year, month, day, hour, 0, 0, TimeSpan.Zero);

    private static decimal Weekdays(DateOnly day) => day.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday ? 20 : 100;

    private static decimal MonthTotal(ForecastPeriod period, Func<DateOnly, decimal> usage) =>
        Enumerable.Range(0, period.Days).Sum(i => usage(period.FirstDay.AddDays(i)));

    [Fact]
    public void A_flat_month_is_forecast_at_its_rate_times_its_days_exactly()
    {
        var result = MonthForecast.Of(Input(November, At(2026, 11, 15, 12), _ => 100m), ForecastUnit.Dollars);

        Assert.Equal(ForecastMethods.DayOfWeekRunRate, result.Method);
        Assert.Equal(1450m, result.Actual);   // 14 days and half of today
        Assert.Equal(3000m, result.Forecast);
        Assert.Equal(3000m, result.Low);      // no spread in the history: the interval collapses
        Assert.Equal(3000m, result.High);
        Assert.Equal(
            "$1,450.00 in 14.5 days + 15.5 days at $100.00/day (weekday-adjusted from the last 8 weeks) = $3,000.00; 80 % between $3,000.00 and $3,000.00.",
            result.Explanation);

        Assert.Equal(30, result.Days.Count);
        Assert.Equal(new ForecastDay(new DateOnly(2026, 11, 14), 1400m, null, null, null), result.Days[13]);
        Assert.Equal(new ForecastDay(new DateOnly(2026, 11, 15), 1450m, 1500m, 1500m, 1500m), result.Days[14]);
        Assert.Equal(new ForecastDay(new DateOnly(2026, 11, 16), null, 1600m, 1600m, 1600m), result.Days[15]);
        Assert.Equal(new ForecastDay(new DateOnly(2026, 11, 30), null, 3000m, 3000m, 3000m), result.Days[29]);
    }

    [Fact]
    public void The_limit_is_exhausted_on_the_first_day_the_cumulative_actual_or_forecast_reaches_it()
    {
        var result = MonthForecast.Of(Input(November, At(2026, 11, 15, 12), _ => 100m), ForecastUnit.Dollars);

        Assert.Equal(new DateOnly(2026, 11, 10), result.ExhaustedOn(1000m));   // already reached: an actual day
        Assert.Equal(new DateOnly(2026, 11, 15), result.ExhaustedOn(1450m));   // today so far
        Assert.Equal(new DateOnly(2026, 11, 15), result.ExhaustedOn(1500m));   // by the end of today
        Assert.Equal(new DateOnly(2026, 11, 20), result.ExhaustedOn(2000m));
        Assert.Equal(new DateOnly(2026, 11, 30), result.ExhaustedOn(3000m));
        Assert.Null(result.ExhaustedOn(3000.01m));
    }

    [Fact]
    public void With_less_than_three_weeks_of_history_the_rate_is_the_mean_of_the_month_so_far()
    {
        var result = MonthForecast.Of(Input(November, At(2026, 11, 6), _ => 100m, historyDays: 5), ForecastUnit.Dollars);

        Assert.Equal(ForecastMethods.ProRataRunRate, result.Method);
        Assert.Equal(500m, result.Actual);
        Assert.Equal(3000m, result.Forecast);
        Assert.Equal(
            "$500.00 in 5 days + 25 days at $100.00/day (the mean of the last 5 complete days) = $3,000.00; 80 % between $3,000.00 and $3,000.00.",
            result.Explanation);
    }

    [Fact]
    public void Days_before_a_tenants_first_usage_are_not_history()
    {
        // Usage since 10 November; eight weeks of history are passed, mostly zeros.
        var result = MonthForecast.Of(Input(November, At(2026, 11, 16), day => day >= new DateOnly(2026, 11, 10) ? 100m : 0m), ForecastUnit.Dollars);

        Assert.Equal(ForecastMethods.ProRataRunRate, result.Method);
        Assert.Equal(600m, result.Actual);
        Assert.Equal(2100m, result.Forecast);
    }

    [Fact]
    public void A_weekday_heavy_month_is_forecast_day_by_day_with_its_weekend_low()
    {
        var result = MonthForecast.Of(Input(November, At(2026, 11, 16), Weekdays), ForecastUnit.Dollars);

        Assert.Equal(ForecastMethods.DayOfWeekRunRate, result.Method);
        Assert.Equal(MonthTotal(November, Weekdays), result.Forecast);
        // Friday 20th to Saturday 21st adds the weekend's 20, Monday 23rd the weekday's 100.
        Assert.Equal(20m, result.Days[20].Forecast - result.Days[19].Forecast);
        Assert.Equal(100m, result.Days[22].Forecast - result.Days[21].Forecast);
    }

    [Fact]
    public void Pro_rata_would_miss_the_weekend_that_weekday_factors_see()
    {
        // As of Monday 16th the month so far has more weekend days (5 of 15) than the rest of it (4 of 15).
        var weekday = MonthForecast.Of(Input(November, At(2026, 11, 16), Weekdays), ForecastUnit.Dollars);
        var proRata = MonthForecast.Of(Input(November, At(2026, 11, 16), Weekdays, historyDays: 15), ForecastUnit.Dollars);

        Assert.Equal(ForecastMethods.ProRataRunRate, proRata.Method);
        Assert.Equal(2200m, Math.Round(proRata.Forecast!.Value, 20));   // 1,100 in 15 days, 15 more at 73.33
        Assert.NotEqual(MonthTotal(November, Weekdays), proRata.Forecast);
        Assert.Equal(MonthTotal(November, Weekdays), weekday.Forecast);
    }

    [Fact]
    public void After_a_step_change_the_forecast_follows_the_new_level()
    {
        decimal Step(DateOnly day) => day >= new DateOnly(2026, 11, 9) ? 200m : 100m;
        var result = MonthForecast.Of(Input(November, At(2026, 11, 20), Step), ForecastUnit.Dollars);

        Assert.Equal(ForecastMethods.DayOfWeekRunRate, result.Method);
        Assert.Equal(800m + 11 * 200m, result.Actual);
        var perDay = (result.Forecast!.Value - result.Actual) / 11;
        // The last week is all at the new level; the weekday factors come from the mixed 8 weeks and stay near 1.
        Assert.InRange(perDay, 190m, 210m);
    }

    [Fact]
    public void A_single_spike_is_damped()
    {
        decimal Spike(DateOnly day) => day == new DateOnly(2026, 11, 18) ? 1000m : 100m;
        var result = MonthForecast.Of(Input(November, At(2026, 11, 20), Spike), ForecastUnit.Dollars);

        Assert.Equal(1900m + 900m, result.Actual);
        var perDay = (result.Forecast!.Value - result.Actual) / 11;
        // Uncapped, the last week's mean alone would be (6 × 100 + 1000) / 7 = 228.57 a day.
        Assert.InRange(perDay, 100m, 130m);
        Assert.True(result.High > result.Forecast, "a spike in the history widens the interval");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void No_forecast_with_usage_on_fewer_than_three_days(int day)
    {
        var result = MonthForecast.Of(Input(November, At(2026, 11, day, 12), _ => 100m), ForecastUnit.Dollars);

        Assert.Equal(ForecastMethods.InsufficientHistory, result.Method);
        Assert.Equal(100m * (day - 1) + 50m, result.Actual);
        Assert.Null(result.Forecast);
        Assert.Null(result.Low);
        Assert.Null(result.High);
        Assert.Equal(
            $"${100 * (day - 1) + 50}.00 so far in 2026-11; no forecast yet: it needs usage on at least 3 days of the month, and there {(day == 1 ? "has been 1" : "have been 2")}.",
            result.Explanation);
        Assert.Equal(30, result.Days.Count);
        Assert.Equal(100m * (day - 1) + 50m, result.Days[day - 1].Actual);
        Assert.All(result.Days, d => Assert.Null(d.Forecast));
        Assert.All(result.Days.Skip(day), d => Assert.Null(d.Actual));
        Assert.Null(result.ExhaustedOn(1000m));
        Assert.Equal(new DateOnly(2026, 11, day), result.ExhaustedOn(100m * (day - 1) + 50m));
    }

    [Fact]
    public void A_day_with_only_a_credit_is_no_day_with_usage()
    {
        var result = MonthForecast.Of(Input(November, At(2026, 11, 3, 12), day => day.Day == 2 ? -5m : 100m), ForecastUnit.Dollars);

        Assert.Equal(ForecastMethods.InsufficientHistory, result.Method);
        Assert.Equal(145m, result.Actual);
        Assert.Contains("there have been 2", result.Explanation);
    }

    [Theory]
    [InlineData("0", "0")]
    [InlineData("144", "12")]
    [InlineData("0.000001", "0.001")]
    [InlineData("1000000000000000000000000", "1000000000000")]
    public void Square_roots_are_exact_where_the_root_is(string value, string root) =>
        Assert.Equal(decimal.Parse(root, System.Globalization.CultureInfo.InvariantCulture),
            DecimalMath.Sqrt(decimal.Parse(value, System.Globalization.CultureInfo.InvariantCulture)));

    [Fact]
    public void The_square_root_of_two_is_right_to_the_last_digits()
    {
        var root = DecimalMath.Sqrt(2m);
        Assert.InRange(root * root, 2m - 0.0000000000000000000000001m, 2m + 0.0000000000000000000000001m);
        Assert.Equal(1.4142135623730950488016887242m, Math.Round(root, 28));
    }

    [Fact]
    public void On_the_third_day_with_usage_the_forecast_begins()
    {
        var withHistory = MonthForecast.Of(Input(November, At(2026, 11, 3, 12), _ => 100m), ForecastUnit.Dollars);
        var monthOnly = MonthForecast.Of(Input(November, At(2026, 11, 3, 12), _ => 100m, historyDays: 2), ForecastUnit.Dollars);

        Assert.Equal(ForecastMethods.DayOfWeekRunRate, withHistory.Method);
        Assert.Equal(3000m, withHistory.Forecast);
        Assert.Equal(ForecastMethods.ProRataRunRate, monthOnly.Method);
        Assert.Equal(3000m, monthOnly.Forecast);
    }

    [Fact]
    public void January_is_forecast_from_the_previous_years_december()
    {
        var january = new ForecastPeriod(2027, 1);
        var result = MonthForecast.Of(Input(january, At(2027, 1, 5, 6), Weekdays), ForecastUnit.Dollars);

        Assert.Equal(ForecastMethods.DayOfWeekRunRate, result.Method);
        Assert.Equal(31, result.Days.Count);
        Assert.Equal(new DateOnly(2027, 1, 31), result.Days[^1].Date);
        Assert.Equal(MonthTotal(january, Weekdays), result.Forecast);
    }

    [Theory]
    [InlineData(2028, 29)]
    [InlineData(2027, 28)]
    public void February_has_the_days_of_its_year(int year, int days)
    {
        var february = new ForecastPeriod(year, 2);
        var result = MonthForecast.Of(Input(february, At(year, 2, 10), _ => 100m), ForecastUnit.Dollars);

        Assert.Equal(days, result.Days.Count);
        Assert.Equal(900m, result.Actual);
        Assert.Equal(100m * days, result.Forecast);
        Assert.Equal(new DateOnly(year, 2, days), result.ExhaustedOn(100m * days));
    }

    [Fact]
    public void After_the_period_the_forecast_is_the_actual_and_the_interval_collapses()
    {
        var result = MonthForecast.Of(Input(November, At(2026, 12, 3, 9), Weekdays), ForecastUnit.Dollars);

        var total = MonthTotal(November, Weekdays);
        Assert.Equal(ForecastMethods.PeriodComplete, result.Method);
        Assert.Equal(total, result.Actual);
        Assert.Equal(total, result.Forecast);
        Assert.Equal(total, result.Low);
        Assert.Equal(total, result.High);
        Assert.Equal($"2026-11 is over: ${total:#,##0.00} in 30 days is the month's total.", result.Explanation);
        Assert.All(result.Days, d => Assert.NotNull(d.Actual));
        Assert.All(result.Days, d => Assert.Null(d.Forecast));
        Assert.Equal(total, result.Days[^1].Actual);
    }

    [Fact]
    public void No_usage_at_all_gives_no_forecast()
    {
        var result = MonthForecast.Of(Input(November, At(2026, 11, 20), _ => 0m), ForecastUnit.Dollars);

        Assert.Equal(ForecastMethods.InsufficientHistory, result.Method);
        Assert.Equal(0m, result.Actual);
        Assert.Null(result.Forecast);
        Assert.Contains("there have been 0", result.Explanation);
        Assert.Null(result.ExhaustedOn(1m));
    }

    /// <summary>Between 90 and 110 a day, the same for any run.</summary>
    private static decimal Noisy(DateOnly day) => 100m + (day.DayNumber * 37 % 21) - 10;

    [Fact]
    public void The_interval_holds_the_forecast_and_widens_with_the_days_left()
    {
        var early = MonthForecast.Of(Input(November, At(2026, 11, 10), Noisy), ForecastUnit.Dollars);
        var late = MonthForecast.Of(Input(November, At(2026, 11, 20), Noisy), ForecastUnit.Dollars);

        foreach (var result in new[] { early, late })
        {
            Assert.True(result.Actual <= result.Low && result.Low < result.Forecast && result.Forecast < result.High,
                $"{result.Actual} ≤ {result.Low} < {result.Forecast} < {result.High}");
            var future = result.Days.Where(d => d.Forecast is not null).ToArray();
            var widths = future.Select(d => d.High!.Value - d.Low!.Value).ToArray();
            Assert.All(widths.Zip(widths.Skip(1)), pair => Assert.True(pair.First < pair.Second, $"{pair.First} < {pair.Second}"));
            Assert.All(future.Zip(future.Skip(1)), pair => Assert.True(pair.First.Low <= pair.Second.Low));
        }
        Assert.True(early.High - early.Low > late.High - late.Low, "20 days left is less certain than 10");
        Assert.InRange(early.Forecast!.Value, MonthTotal(November, Noisy) * 0.95m, MonthTotal(November, Noisy) * 1.05m);
    }

    [Fact]
    public void The_interval_is_the_spread_of_the_days_left_plus_the_uncertainty_of_the_rate()
    {
        // Four days of 90, 110, 90, 110: mean 100, standard deviation √(400 / 3) = 11.547. With 26 days left and a rate
        // that is the mean of 4 days: ± 1.2816 × 11.547 × √(26 + 26² / 4) = ± 206.64.
        var result = MonthForecast.Of(Input(November, At(2026, 11, 5), day => day.Day % 2 == 1 ? 90m : 110m, historyDays: 4), ForecastUnit.Dollars);

        Assert.Equal(ForecastMethods.ProRataRunRate, result.Method);
        Assert.Equal(3000m, result.Forecast);
        Assert.Equal(206.64m, Math.Round(result.High!.Value - 3000m, 2));
        Assert.Equal(206.64m, Math.Round(3000m - result.Low!.Value, 2));
        Assert.Equal(
            "$400.00 in 4 days + 26 days at $100.00/day (the mean of the last 4 complete days) = $3,000.00; 80 % between $2,793.36 and $3,206.64.",
            result.Explanation);
    }

    [Fact]
    public void The_lower_bound_is_never_below_the_actual()
    {
        // Wild days and little left of the month: the spread alone would reach below what is already spent.
        decimal Wild(DateOnly day) => day.DayNumber % 2 == 0 ? 0.01m : 500m;
        var result = MonthForecast.Of(Input(November, At(2026, 11, 30, 23), Wild), ForecastUnit.Dollars);

        Assert.Equal(result.Actual, result.Low);
        Assert.True(result.Forecast >= result.Actual);
    }

    [Fact]
    public void Token_sized_amounts_do_not_overflow()
    {
        // 10^15 tokens a day ± 10 %: squared deviations alone would be past decimal's 7.9 × 10^28.
        decimal Huge(DateOnly day) => 1_000_000_000_000_000m + (day.DayNumber % 2 == 0 ? 100_000_000_000_000m : -100_000_000_000_000m);
        var result = MonthForecast.Of(Input(November, At(2026, 11, 10), Huge), ForecastUnit.Named("tokens"));

        Assert.InRange(result.Forecast!.Value, 29_000_000_000_000_000m, 31_000_000_000_000_000m);
        Assert.True(result.Low < result.Forecast && result.Forecast < result.High);
    }

    [Fact]
    public void Budgets_phrase_it_in_their_meters_unit()
    {
        var result = MonthForecast.Of(Input(November, At(2026, 11, 15, 12), _ => 1_000_000m), ForecastUnit.Named("tokens"));

        Assert.Equal(
            "14,500,000 tokens in 14.5 days + 15.5 days at 1,000,000 tokens/day (weekday-adjusted from the last 8 weeks) = 30,000,000 tokens; "
            + "80 % between 30,000,000 tokens and 30,000,000 tokens.",
            result.Explanation);
    }

    [Fact]
    public void Inconsistent_input_is_refused()
    {
        var input = Input(November, At(2026, 11, 15, 12), _ => 100m);

        Assert.Throws<ArgumentOutOfRangeException>(() => MonthForecast.Of(input with { AsOf = At(2026, 10, 31, 23) }, ForecastUnit.Dollars));
        Assert.Throws<ArgumentException>(() => MonthForecast.Of(input with { Actuals = input.Actuals.Skip(1).ToArray() }, ForecastUnit.Dollars));
        Assert.Throws<ArgumentException>(() => MonthForecast.Of(input with { History = input.History.Take(13).ToArray() }, ForecastUnit.Dollars));
    }

    [Fact]
    public void Days_a_store_returns_without_the_days_without_usage_count_as_zero()
    {
        var asOf = At(2026, 11, 16, 12);
        decimal Sparse(DateOnly day) => day.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday ? 0m : 100m + day.Day;
        var start = ForecastInput.HistoryStart(November, asOf);
        var stored = Enumerable.Range(0, 100).Select(i => start.AddDays(i)).Where(d => d <= new DateOnly(2026, 11, 16) && Sparse(d) != 0)
            .ToDictionary(d => d, d => d == new DateOnly(2026, 11, 16) ? Sparse(d) / 2 : Sparse(d));

        var input = ForecastInput.FromDays(November, asOf, stored, stored);

        Assert.Equal(new DateOnly(2026, 9, 21), start);   // 56 complete days before the 16th
        Assert.Equal(16, input.Actuals.Count);
        Assert.Equal(56, input.History.Count);
        Assert.Equal(Sparse(new DateOnly(2026, 9, 21)), input.History[0]);
        Assert.Equal(0m, input.Actuals[13]);   // Saturday 14th, absent from the store
        Assert.Equal(MonthForecast.Of(Input(November, asOf, Sparse), ForecastUnit.Dollars).Forecast,
            MonthForecast.Of(input, ForecastUnit.Dollars).Forecast);
    }

    [Fact]
    public void After_the_period_the_days_are_the_periods()
    {
        var asOf = At(2027, 1, 10);
        var input = ForecastInput.FromDays(November, asOf, new Dictionary<DateOnly, decimal> { [new DateOnly(2026, 11, 30)] = 7m }, new Dictionary<DateOnly, decimal>());

        Assert.Equal(new DateOnly(2026, 10, 6), ForecastInput.HistoryStart(November, asOf));
        Assert.Equal(30, input.Actuals.Count);
        Assert.Equal(7m, MonthForecast.Of(input, ForecastUnit.Dollars).Forecast);
    }

    [Fact]
    public void A_backtest_of_flat_months_has_no_error_and_covers_every_month()
    {
        var history = new DailySeries(new DateOnly(2026, 6, 15), Enumerable.Repeat(120m, 200).ToArray());   // to 31 December

        var points = Backtest.Of(history, Backtest.DefaultDays);

        Assert.Equal(["2026-07", "2026-08", "2026-09", "2026-10", "2026-11", "2026-12"], points.Select(p => p.Period.ToString()).Distinct());
        Assert.All(points, p => Assert.Equal(120m * p.Period.Days, p.Forecast));
        Assert.Equal(
            [new BacktestSummary(10, 6, 6, 0m, 1m), new BacktestSummary(20, 6, 6, 0m, 1m)],
            BacktestSummary.Of(points));
    }

    [Fact]
    public void A_backtest_scores_each_forecast_against_the_months_actual_total()
    {
        // Flat at 100 until 25 July, then 200: made after day 10 and 20 of July the forecast is 3,100, the total 3,700.
        var history = new DailySeries(new DateOnly(2026, 7, 1), Enumerable.Range(0, 31).Select(i => i < 25 ? 100m : 200m).ToArray());

        var points = Backtest.Of(history, Backtest.DefaultDays);

        Assert.Equal(2, points.Count);
        Assert.All(points, p => Assert.Equal(3700m, p.ActualTotal));
        Assert.All(points, p => Assert.Equal(3100m, p.Forecast));
        Assert.All(points, p => Assert.Equal(600m / 3700m, p.AbsolutePercentageError));
        Assert.All(points, p => Assert.False(p.Covered));
    }
}
