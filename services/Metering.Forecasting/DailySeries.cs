namespace Metering.Forecasting;

/// <summary>Consecutive UTC days' amounts from <see cref="FirstDay"/> on; a day without usage is zero.</summary>
public sealed record DailySeries(DateOnly FirstDay, IReadOnlyList<decimal> Values)
{
    public DateOnly LastDay => FirstDay.AddDays(Values.Count - 1);

    /// <summary>The values of the days from <paramref name="from"/> (clamped to the series) up to, not including, <paramref name="until"/>.</summary>
    public IReadOnlyList<decimal> Between(DateOnly from, DateOnly until)
    {
        var start = Math.Max(0, from.DayNumber - FirstDay.DayNumber);
        var end = Math.Min(Values.Count, until.DayNumber - FirstDay.DayNumber);
        return end <= start ? [] : Values.Skip(start).Take(end - start).ToArray();
    }
}
