using Metering.Forecasting;

namespace Metering.Budgets.TenantBudgets;

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
/// <remarks>
/// A silo holds one of these per active tenant, so it is kept small: totals in one short array searched in order
/// (a tenant has a few meters × two periods), no reservation table until the first reservation, and the known
/// meter, period and enforcement names shared rather than one copy per tenant. Day totals for forecasts are kept only
/// for the meters of month limits (<see cref="DayHistory"/>): a tenant without one holds none.
/// </remarks>
public sealed class TenantBudget(CostOf? costOf = null)
{
    private static readonly CostOf Free = (_, _, _, _, _) => 0;
    private readonly CostOf _costOf = costOf ?? Free;

    private Total[] _used = [];
    private Dictionary<string, Reservation>? _reservations;
    /// <summary>The day totals of each meter with a month limit, for its forecast; null while the tenant has none.</summary>
    private (string Meter, DayHistory Days)[]? _days;

    private struct Total(string meter, string period, DateOnly start, decimal used)
    {
        public readonly string Meter = meter;
        public readonly string Period = period;
        public readonly DateOnly Start = start;
        public decimal Used = used;

        public readonly bool Is(string meter, string period, DateOnly start) => Start == start && Meter == meter && Period == period;
    }

    public IReadOnlyList<QuotaLimit> Limits { get; private set; } = [];
    public IReadOnlyCollection<Reservation> Reservations => _reservations is null ? [] : _reservations.Values;

    /// <summary>
    /// Replaces the limits. A meter that gets its first month limit starts with no day totals: the caller loads them
    /// (<see cref="ForecastMeters"/> says which meters, <see cref="HistoryStart"/> from which day).
    /// </summary>
    public void SetLimits(IReadOnlyList<QuotaLimit> limits)
    {
        Limits = limits.Select(l => l with { Meter = Shared(l.Meter), Period = Shared(l.Period), Enforcement = Shared(l.Enforcement) }).ToArray();
        var meters = Limits.Where(l => l.Period == Periods.Month).Select(l => l.Meter).Distinct().ToArray();
        _days = meters.Length == 0 ? null : meters.Select(m => (m, DaysOf(m) ?? new DayHistory())).ToArray();
    }

    /// <summary>The meters whose day totals are kept for a forecast: those with a month limit.</summary>
    public IReadOnlyList<string> ForecastMeters => _days is null ? [] : _days.Select(d => d.Meter).ToArray();

    /// <summary>The first day of the day totals a forecast made at <paramref name="now"/> reads.</summary>
    public static DateOnly HistoryStart(DateTimeOffset now) =>
        ForecastInput.HistoryStart(ForecastPeriod.Of(DateOnly.FromDateTime(now.UtcDateTime)), now);

    public void Add(PeriodTotal total)
    {
        if (total.Period == Periods.Day) DaysOf(total.Meter)?.Add(total.Start, total.Used);
        for (var i = 0; i < _used.Length; i++)
        {
            if (!_used[i].Is(total.Meter, total.Period, total.Start)) continue;
            _used[i].Used += total.Used;
            return;
        }
        _used = [.. _used, new Total(Shared(total.Meter), Shared(total.Period), total.Start, total.Used)];
    }

    /// <summary>
    /// Forgets what was added and starts from <paramref name="totals"/> (the stored totals: the current periods', and the
    /// day totals since <see cref="HistoryStart"/> of the <see cref="ForecastMeters"/>).
    /// </summary>
    public void ReplaceUsage(IEnumerable<PeriodTotal> totals)
    {
        _used = [];
        foreach (var (_, days) in _days ?? []) days.Clear();
        foreach (var total in totals) Add(total);
    }

    private DayHistory? DaysOf(string meter)
    {
        foreach (var (m, days) in _days ?? [])
            if (m == meter) return days;
        return null;
    }

    /// <summary>The month-end forecast of a month limit as the view shows it; null for a day limit, or with too little usage.</summary>
    public LimitForecastView? ForecastOf(QuotaLimit limit, DateTimeOffset now) =>
        limit.Period == Periods.Month && DaysOf(limit.Meter) is { } days
            ? LimitForecasts.View(limit.Meter, limit.Limit, LimitForecasts.Of(limit.Meter, days, now))
            : null;

    /// <summary>Drops the totals of periods that ended before <paramref name="now"/>: nothing is decided on them any more.</summary>
    public void ForgetEndedPeriods(DateTimeOffset now)
    {
        if (_used.Any(t => PeriodEnd(t.Period, t.Start) <= now)) _used = [.. _used.Where(t => PeriodEnd(t.Period, t.Start) > now)];
    }

    public decimal Used(string meter, string period, DateOnly start)
    {
        foreach (var total in _used)
            if (total.Is(meter, period, start)) return total.Used;
        return 0;
    }

    /// <summary>The usage of the current UTC day and month, every meter.</summary>
    public IEnumerable<PeriodTotal> Current(DateTimeOffset now)
    {
        var today = PeriodStart(Periods.Day, now);
        var month = PeriodStart(Periods.Month, now);
        return _used
            .Where(u => (u.Period == Periods.Day && u.Start == today) || (u.Period == Periods.Month && u.Start == month))
            .Select(u => new PeriodTotal(u.Meter, u.Period, u.Start, u.Used))
            .OrderBy(t => t.Meter, StringComparer.Ordinal).ThenBy(t => t.Period, StringComparer.Ordinal);
    }

    public void Reserve(Reservation reservation) => (_reservations ??= new(StringComparer.Ordinal))[reservation.Id] = reservation;

    /// <summary>The usage naming a reservation has arrived: its actual quantity is now in the totals.</summary>
    public bool Settle(string reservationId)
    {
        if (_reservations is null || !_reservations.Remove(reservationId)) return false;
        if (_reservations.Count == 0) _reservations = null;
        return true;
    }

    /// <summary>
    /// Whether the tenant may hold one more reservation: at most <paramref name="maxOpen"/> at once, since every open one is
    /// counted on each authorize of the tenant. Refused with the seconds until the first of them expires.
    /// </summary>
    public AuthorizeDecision MayReserve(int maxOpen, DateTimeOffset now)
    {
        var open = Reservations.Count(r => r.ExpiresAt > now);
        if (open < maxOpen) return AuthorizeDecision.Yes;
        var firstExpiry = Reservations.Where(r => r.ExpiresAt > now).Min(r => r.ExpiresAt);
        return new AuthorizeDecision(false,
            $"{open} reservations are open, the most one tenant may hold ({maxOpen}): usage naming a reservation settles it, else it expires",
            Math.Max(1, (long)Math.Ceiling((firstExpiry - now).TotalSeconds)));
    }

    public IReadOnlyList<Reservation> Expire(DateTimeOffset now)
    {
        if (_reservations is null) return [];
        var expired = _reservations.Values.Where(r => r.ExpiresAt <= now).ToList();
        foreach (var r in expired) Settle(r.Id);
        return expired;
    }

    public IReadOnlyList<LimitState> Evaluate(DateTimeOffset now) =>
        Limits.Select(limit =>
        {
            var start = PeriodStart(limit.Period, now);
            var reserved = Reservations.Where(r => r.ExpiresAt > now && Covers(limit, r.Meter))
                .Sum(r => limit.Meter == CostMeter.CostUsd ? _costOf(r.Meter, r.Model, r.GpuType, r.Quantity, now) : r.Quantity);
            return new LimitState(limit, start, Used(limit.Meter, limit.Period, start), reserved, PeriodEnd(limit.Period, start));
        }).ToList();

    /// <summary>What <c>GET /v1/tenants/{tenant}/budget</c> shows: the current day's and month's usage, each limit, the status.</summary>
    public BudgetView View(string tenant, DateTimeOffset now)
    {
        var usage = Current(now).Select(t => new MeterUsageView(t.Meter, t.Period, t.Used)).ToList();
        var states = Evaluate(now);
        var limits = states.Select(s => new LimitView(s.Limit.Meter, s.Limit.Period, s.Limit.Limit, s.Used, s.Remaining,
            s.Limit.SoftPct, s.Limit.Enforcement, s.ResetsAt, ForecastOf(s.Limit, now))).ToList();
        return new BudgetView(tenant, StatusOf(states).Status, usage, limits);
    }

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

    /// <summary>The one shared instance of a known name (meters, periods, enforcements are constants), else the name itself.</summary>
    private static string Shared(string name) => string.IsInterned(name) ?? name;

    private static string Describe(QuotaLimit limit) => $"{limit.Meter} {limit.Period} limit {limit.Limit}";
}
