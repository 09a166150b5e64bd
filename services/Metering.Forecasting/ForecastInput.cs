namespace Metering.Forecasting;

/// <summary>What a month-end forecast is made from. Days without usage are zero, never left out.</summary>
/// <param name="Period">The month forecast.</param>
/// <param name="AsOf">The moment the forecast is made: inside the period or after it, never before.</param>
/// <param name="Actuals">One value per day of the period from its first day through the as-of day, the last being
/// today so far; every day of the period once the as-of moment is past it.</param>
/// <param name="History">Complete days ending the day before the as-of day (the period's last day once past it),
/// oldest first, at least the period's complete days; it may reach back before the period, and the forecast reads its
/// last <see cref="RunRate.MaxWeeks"/> weeks. It is valued as future days will be: Billing passes the same days
/// re-priced with the rate card in effect now, Budgets the same quantities as the actuals.</param>
public sealed record ForecastInput(ForecastPeriod Period, DateTimeOffset AsOf, IReadOnlyList<decimal> Actuals, IReadOnlyList<decimal> History)
{
    /// <summary>Complete days of history the forecast reads: <see cref="RunRate.MaxWeeks"/> weeks.</summary>
    public const int HistoryDays = RunRate.MaxWeeks * 7;

    /// <summary>
    /// The input from per-day amounts as a store returns them, days without usage absent (they count as zero): the
    /// period's days through the as-of day from <paramref name="actuals"/>, and the <see cref="HistoryDays"/> complete
    /// days before the as-of day (from <see cref="HistoryStart"/>) from <paramref name="history"/>.
    /// </summary>
    public static ForecastInput FromDays(ForecastPeriod period, DateTimeOffset asOf,
        IReadOnlyDictionary<DateOnly, decimal> actuals, IReadOnlyDictionary<DateOnly, decimal> history)
    {
        var shape = new ForecastInput(period, asOf, [], []);
        var lastActual = shape.IsPastPeriod ? period.LastDay : shape.Today;
        var start = HistoryStart(period, asOf);
        return shape with
        {
            Actuals = Range(period.FirstDay, lastActual.AddDays(1)).Select(d => actuals.GetValueOrDefault(d)).ToArray(),
            History = Range(start, start.AddDays(HistoryDays)).Select(d => history.GetValueOrDefault(d)).ToArray(),
        };
    }

    /// <summary>The first day of history <see cref="FromDays"/> reads, so a caller loads no more than that.</summary>
    public static DateOnly HistoryStart(ForecastPeriod period, DateTimeOffset asOf)
    {
        var today = DateOnly.FromDateTime(asOf.UtcDateTime);
        return (today > period.LastDay ? period.LastDay.AddDays(1) : today).AddDays(-HistoryDays);
    }

    private static IEnumerable<DateOnly> Range(DateOnly from, DateOnly until)
    {
        for (var day = from; day < until; day = day.AddDays(1)) yield return day;
    }

    public DateOnly Today => DateOnly.FromDateTime(AsOf.UtcDateTime);

    public bool IsPastPeriod => Today > Period.LastDay;

    /// <summary>Complete days of the period before the as-of day.</summary>
    public int CompleteDays => IsPastPeriod ? Period.Days : Today.DayNumber - Period.FirstDay.DayNumber;

    /// <summary>The share of today already gone, 0 at midnight UTC.</summary>
    public decimal ElapsedOfToday => IsPastPeriod ? 0m : (decimal)AsOf.UtcDateTime.TimeOfDay.Ticks / TimeSpan.TicksPerDay;

    internal void Validate()
    {
        if (Today < Period.FirstDay)
            throw new ArgumentOutOfRangeException(nameof(AsOf), AsOf, $"the as-of moment is before the period {Period}");
        var expected = IsPastPeriod ? Period.Days : CompleteDays + 1;
        if (Actuals.Count != expected)
            throw new ArgumentException($"{Period} as of {AsOf:O} needs {expected} daily actuals, not {Actuals.Count}", nameof(Actuals));
        if (History.Count < CompleteDays)
            throw new ArgumentException($"the history must cover the period's {CompleteDays} complete days, it has {History.Count}", nameof(History));
    }
}
