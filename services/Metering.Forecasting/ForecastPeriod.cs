namespace Metering.Forecasting;

/// <summary>A calendar month in UTC, the period every forecast is made for.</summary>
public readonly record struct ForecastPeriod
{
    public ForecastPeriod(int year, int month)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(month, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(month, 12);
        FirstDay = new DateOnly(year, month, 1);
    }

    public DateOnly FirstDay { get; }
    public int Days => DateTime.DaysInMonth(FirstDay.Year, FirstDay.Month);
    public DateOnly LastDay => FirstDay.AddDays(Days - 1);

    public static ForecastPeriod Of(DateOnly day) => new(day.Year, day.Month);

    public override string ToString() => $"{FirstDay.Year:D4}-{FirstDay.Month:D2}";
}
