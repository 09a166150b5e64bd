using Metering.Contracts.Budgets;

namespace Metering.Budgets.Tracking;

/// <summary>An amount held against a tenant's limits until the usage that names it arrives, or until it expires.</summary>
public sealed record Reservation(string Id, string Meter, decimal Quantity, DateTimeOffset ExpiresAt, string? Model = null, string? GpuType = null);

/// <summary>What a quantity of a meter costs in USD today (0 when no price is in effect).</summary>
public delegate decimal CostOf(string meter, string? model, string? gpuType, decimal quantity, DateTimeOffset now);

/// <summary>Where a tenant stands against one limit in the limit's current period.</summary>
public sealed record LimitState(QuotaLimit Limit, DateOnly PeriodStart, decimal Used, decimal Reserved, DateTimeOffset ResetsAt)
{
    public decimal Remaining => Math.Max(0, Limit.Limit - Used);
    public bool Reached => Used >= Limit.Limit;
    public bool SoftCrossed => Used * 100 >= Limit.Limit * Limit.SoftPct;
}

/// <summary>The answer to an authorization: allowed, or why not and for how long.</summary>
public sealed record AuthorizeDecision(bool Allowed, string? Reason, long? RetryAfterSeconds)
{
    public static readonly AuthorizeDecision Yes = new(true, null, null);
}

/// <summary>
/// One tenant's budget in memory: limits, usage per meter and UTC period, reservations. Decides status and
/// authorizations for a given moment; time is always passed in, so period boundaries can be tested with any clock.
/// A <c>cost_usd</c> limit covers every meter, each priced by <paramref name="costOf"/>.
/// </summary>
public sealed class TenantBudget(CostOf? costOf = null)
{
    private readonly CostOf _costOf = costOf ?? ((_, _, _, _, _) => 0);

    private readonly Dictionary<(string Meter, string Period, DateOnly Start), decimal> _used = [];
    private readonly Dictionary<string, Reservation> _reservations = new(StringComparer.Ordinal);

    public IReadOnlyList<QuotaLimit> Limits { get; private set; } = [];
    public IReadOnlyCollection<Reservation> Reservations => _reservations.Values;

    public void SetLimits(IReadOnlyList<QuotaLimit> limits) => Limits = limits;

    public void Add(PeriodTotal total)
    {
        var key = (total.Meter, total.Period, total.Start);
        _used[key] = _used.GetValueOrDefault(key) + total.Used;
    }

    /// <summary>Forgets what was added and starts from <paramref name="totals"/> (the stored totals).</summary>
    public void ReplaceUsage(IEnumerable<PeriodTotal> totals)
    {
        _used.Clear();
        foreach (var total in totals) Add(total);
    }

    public decimal Used(string meter, string period, DateOnly start) => _used.GetValueOrDefault((meter, period, start));

    /// <summary>The usage of the current UTC day and month, every meter.</summary>
    public IEnumerable<PeriodTotal> Current(DateTimeOffset now)
    {
        var today = PeriodStart(Periods.Day, now);
        var month = PeriodStart(Periods.Month, now);
        return _used
            .Where(u => (u.Key.Period == Periods.Day && u.Key.Start == today) || (u.Key.Period == Periods.Month && u.Key.Start == month))
            .Select(u => new PeriodTotal(u.Key.Meter, u.Key.Period, u.Key.Start, u.Value))
            .OrderBy(t => t.Meter, StringComparer.Ordinal).ThenBy(t => t.Period, StringComparer.Ordinal);
    }

    public void Reserve(Reservation reservation) => _reservations[reservation.Id] = reservation;

    /// <summary>The usage naming a reservation has arrived: its actual quantity is now in the totals.</summary>
    public bool Settle(string reservationId) => _reservations.Remove(reservationId);

    public IReadOnlyList<Reservation> Expire(DateTimeOffset now)
    {
        var expired = _reservations.Values.Where(r => r.ExpiresAt <= now).ToList();
        foreach (var r in expired) _reservations.Remove(r.Id);
        return expired;
    }

    public IReadOnlyList<LimitState> Evaluate(DateTimeOffset now) =>
        Limits.Select(limit =>
        {
            var start = PeriodStart(limit.Period, now);
            var reserved = _reservations.Values.Where(r => r.ExpiresAt > now && Covers(limit, r.Meter))
                .Sum(r => limit.Meter == CostMeter.CostUsd ? _costOf(r.Meter, r.Model, r.GpuType, r.Quantity, now) : r.Quantity);
            return new LimitState(limit, start, Used(limit.Meter, limit.Period, start), reserved, PeriodEnd(limit.Period, start));
        }).ToList();

    /// <summary><c>throttled</c> when a throttle-enforced limit is reached, <c>warning</c> when any soft threshold is crossed.</summary>
    public (string Status, string? Reason) Status(DateTimeOffset now) => StatusOf(Evaluate(now));

    /// <summary>The status of limit states already evaluated (see <see cref="Evaluate"/>).</summary>
    public static (string Status, string? Reason) StatusOf(IReadOnlyList<LimitState> states)
    {
        if (states.FirstOrDefault(s => s.Limit.Enforcement == Enforcements.Throttle && s.Reached) is { } hard)
            return (BudgetStatuses.Throttled, $"{Describe(hard.Limit)} reached: used {hard.Used}");
        if (states.FirstOrDefault(s => s.SoftCrossed) is { } soft)
            return (BudgetStatuses.Warning, $"{Describe(soft.Limit)}: used {soft.Used}, over {soft.Limit.SoftPct} %");
        return (BudgetStatuses.Ok, null);
    }

    /// <summary>
    /// PRODUCT §5: allowed when, for every throttle-enforced limit covering the meter, used + reserved + quantity ≤ limit.
    /// Otherwise the reason, and the seconds until the last of the blocking periods resets.
    /// </summary>
    public AuthorizeDecision Authorize(string meter, decimal quantity, DateTimeOffset now, string? model = null, string? gpuType = null)
    {
        decimal Requested(QuotaLimit limit) => limit.Meter == CostMeter.CostUsd ? _costOf(meter, model, gpuType, quantity, now) : quantity;
        var blocking = Evaluate(now)
            .Where(s => s.Limit.Enforcement == Enforcements.Throttle && Covers(s.Limit, meter) && s.Used + s.Reserved + Requested(s.Limit) > s.Limit.Limit)
            .ToList();
        if (blocking.Count == 0) return AuthorizeDecision.Yes;
        var first = blocking[0];
        var retryAfter = (long)Math.Ceiling(blocking.Max(s => s.ResetsAt - now).TotalSeconds);
        return new AuthorizeDecision(false,
            $"{Describe(first.Limit)}: used {first.Used} + reserved {first.Reserved} + requested {Requested(first.Limit)} would exceed it",
            Math.Max(1, retryAfter));
    }

    private static bool Covers(QuotaLimit limit, string meter) => limit.Meter == meter || limit.Meter == CostMeter.CostUsd;

    public static DateOnly PeriodStart(string period, DateTimeOffset now)
    {
        var day = DateOnly.FromDateTime(now.UtcDateTime);
        return period == Periods.Day ? day : new DateOnly(day.Year, day.Month, 1);
    }

    public static DateTimeOffset PeriodEnd(string period, DateOnly start)
    {
        var end = period == Periods.Day ? start.AddDays(1) : start.AddMonths(1);
        return new DateTimeOffset(end.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
    }

    private static string Describe(QuotaLimit limit) => $"{limit.Meter} {limit.Period} limit {limit.Limit}";
}
