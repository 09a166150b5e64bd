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
