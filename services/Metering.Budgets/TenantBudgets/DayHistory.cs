using Metering.Forecasting;

namespace Metering.Budgets.TenantBudgets;

/// <summary>
/// One meter's day totals over the days a month-end forecast reads: the <see cref="ForecastInput.HistoryDays"/> complete
/// days before today, today, and tomorrow (usage may be dated up to 5 minutes ahead). A ring of fixed size, moved on by
/// the days it is given: as days pass it neither grows nor needs the store, and a day it does not hold is zero.
/// </summary>
/// <remarks>Held only for the meters of a tenant's month limits: about 1 KiB each.</remarks>
public sealed class DayHistory
{
    public const int Days = ForecastInput.HistoryDays + 2;

    private readonly decimal[] _values = new decimal[Days];
    /// <summary>The latest day held; the ring holds it and the <see cref="Days"/> − 1 days before it.</summary>
    private DateOnly _last = DateOnly.MinValue;

    public void Add(DateOnly day, decimal amount)
    {
        if (day > _last) MoveTo(day);
        else if (!Holds(day)) return;
        _values[day.DayNumber % Days] += amount;
    }

    public void Clear()
    {
        Array.Clear(_values);
        _last = DateOnly.MinValue;
    }

    public decimal On(DateOnly day) => Holds(day) ? _values[day.DayNumber % Days] : 0;

    /// <summary>The amounts of the days from <paramref name="from"/> up to, not including, <paramref name="until"/>.</summary>
    public decimal[] Between(DateOnly from, DateOnly until)
    {
        var values = new decimal[Math.Max(0, until.DayNumber - from.DayNumber)];
        for (var i = 0; i < values.Length; i++) values[i] = On(from.AddDays(i));
        return values;
    }

    private bool Holds(DateOnly day) => day <= _last && day.DayNumber > _last.DayNumber - Days;

    private void MoveTo(DateOnly day)
    {
        if (day.DayNumber - _last.DayNumber >= Days) Array.Clear(_values);
        else
            for (var d = _last.DayNumber + 1; d <= day.DayNumber; d++) _values[d % Days] = 0;
        _last = day;
    }
}
