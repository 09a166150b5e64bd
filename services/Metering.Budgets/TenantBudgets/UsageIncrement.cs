namespace Metering.Budgets.TenantBudgets;

/// <summary>
/// One usage event as the budget grain needs it: its idempotency key, meter, quantity, UTC day, model or GPU type
/// (for pricing), the reservation it settles (<c>attributes.reservation_id</c>), if any, and its cost in USD once
/// the grain priced it.
/// </summary>
[GenerateSerializer, Immutable, Alias("Metering.Budgets.UsageIncrement")]
public sealed record UsageIncrement(
    [property: Id(0)] string Id,
    [property: Id(1)] string Meter,
    [property: Id(2)] decimal Quantity,
    [property: Id(3)] DateOnly Day,
    [property: Id(4)] string? ReservationId = null,
    [property: Id(5)] string? Model = null,
    [property: Id(6)] string? GpuType = null,
    [property: Id(7)] decimal Cost = 0)
{
    public const string ReservationAttribute = "reservation_id";

    public static UsageIncrement From(UsageEvent e, decimal cost = 0) =>
        new(e.Id, e.Meter, e.Quantity, DateOnly.FromDateTime(e.Timestamp.UtcDateTime), e.Attributes?.GetValueOrDefault(ReservationAttribute),
            e.Model, e.GpuType, cost);
}

/// <summary>A running total: what a tenant used of a meter in one UTC day or month (<see cref="Start"/> is its first day).</summary>
[GenerateSerializer, Immutable, Alias("Metering.Budgets.PeriodTotal")]
public sealed record PeriodTotal(
    [property: Id(0)] string Meter,
    [property: Id(1)] string Period,
    [property: Id(2)] DateOnly Start,
    [property: Id(3)] decimal Used)
{
    /// <summary>
    /// The decimals a total keeps. A cost at its full decimal precision (1 GPU-hour's price ÷ 3,600 has 28 of them)
    /// summed exactly by PostgreSQL grows past the 28–29 digits a .NET decimal holds, and the total could no longer be
    /// read back; 16 decimals leave room for totals up to 10^12 and are far finer than a cent.
    /// </summary>
    public const int Decimals = 16;

    public static DateOnly MonthStart(DateOnly day) => new(day.Year, day.Month, 1);

    /// <summary>The day and month totals one increment adds to: its meter's and, when priced, <c>cost_usd</c>.</summary>
    public static IEnumerable<PeriodTotal> Of(UsageIncrement increment)
    {
        yield return new(increment.Meter, Periods.Day, increment.Day, increment.Quantity);
        yield return new(increment.Meter, Periods.Month, MonthStart(increment.Day), increment.Quantity);
        if (increment.Cost == 0) yield break;
        yield return new(CostMeter.CostUsd, Periods.Day, increment.Day, increment.Cost);
        yield return new(CostMeter.CostUsd, Periods.Month, MonthStart(increment.Day), increment.Cost);
    }
}
