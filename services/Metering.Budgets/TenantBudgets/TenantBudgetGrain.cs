using Metering.Budgets.Broadcast;
using Metering.Budgets.RateCards;
using Metering.Budgets.Quotas;
using Microsoft.Extensions.Options;

namespace Metering.Budgets.TenantBudgets;

/// <summary>
/// One tenant's budget: totals, limits and reservations in memory (<see cref="TenantBudget"/>), backed by PostgreSQL,
/// so that the grain comes back with its state on any silo. Usage is applied one batch at a time, in the order its
/// partition delivered it; every status change is broadcast, and each threshold crossing alerts once per period, as
/// does a month limit's forecast going over the limit (again only after it fell back under 90 %).
/// </summary>
public sealed class TenantBudgetGrain(BudgetStore store, QuotaStore quotas, BudgetBroadcast broadcast, RateCardVersions rateCards, TimeProvider clock,
    IOptions<ReservationOptions> reservations, ILogger<TenantBudgetGrain> logger) : Grain, ITenantBudgetGrain
{
    public static readonly TimeSpan ReservationLifetime = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How often usage evaluates a tenant's forecast alerts at most: a month-end forecast takes about 0.3 ms of CPU (8 weeks
    /// of days), too much for every batch of every tenant. Usage in between is evaluated when the interval ends; a quota
    /// change and activation evaluate at once.
    /// </summary>
    public static readonly TimeSpan ForecastAlertInterval = TimeSpan.FromSeconds(10);
    private static int _active;

    /// <summary>Tenant grains active in this silo.</summary>
    public static int ActiveCount => Volatile.Read(ref _active);

    private readonly TenantBudget _budget = new(rateCards.AtMoment);
    private string _publishedStatus = BudgetStatuses.Ok;
    /// <summary>Threshold crossings already alerted; created at the first one (most tenants never cross one).</summary>
    private HashSet<(string Meter, string Period, DateOnly Start, string Threshold)>? _alerted;
    private IGrainTimer? _resetTimer;
    /// <summary>When usage may next evaluate the forecast alerts; a change before then leaves it to <see cref="_forecastTimer"/>.</summary>
    private DateTimeOffset _forecastsDue = DateTimeOffset.MinValue;
    private IGrainTimer? _forecastTimer;
    /// <summary>The last stored batch of this tenant that the in-memory totals include.</summary>
    private long _lastBatch;

    private string Tenant => this.GetPrimaryKeyString();

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        Interlocked.Decrement(ref _active);
        Diagnostics.BudgetMetrics.StatusChanged(_publishedStatus, null);
        return Task.CompletedTask;
    }

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _active);
        // The limits first: they say which meters' day totals the forecasts need.
        _budget.SetLimits(await quotas.LoadAsync(Tenant, cancellationToken));
        await ReloadUsageAsync(cancellationToken);
        foreach (var reservation in await store.LoadReservationsAsync(Tenant, clock.GetUtcNow(), cancellationToken))
            _budget.Reserve(reservation);
        _publishedStatus = await store.LoadStatusAsync(Tenant, cancellationToken) ?? BudgetStatuses.Ok;
        Diagnostics.BudgetMetrics.StatusChanged(null, _publishedStatus);
        // A period may have ended while no silo held this tenant.
        await AfterChangeAsync(cancellationToken, forecastsNow: true);
    }

    public async Task Applied(AppliedUsage usage, long sequence, long previous)
    {
        switch (BatchChain.Step(sequence, previous, _lastBatch))
        {
            case BatchStep.AlreadyCounted:
                return;
            case BatchStep.Next:
                foreach (var total in usage.Totals) _budget.Add(total);
                foreach (var reservation in usage.Settled) _budget.Settle(reservation);
                // Once per batch: a tagged counter's Add per event was a measurable share of the grain's work.
                Diagnostics.BudgetMetrics.Spent(Tenant, usage.Cost);
                _lastBatch = sequence;
                break;
            case BatchStep.Missed:
                // A batch of this tenant was stored but never reached this grain (its call failed): the store has it.
                logger.LogWarning("Tenant {Tenant} missed batch {Previous}; reloading its totals", Tenant, previous);
                await ReloadUsageAsync(CancellationToken.None);
                break;
        }
        await AfterChangeAsync(CancellationToken.None);
    }

    /// <summary>
    /// The stored totals of this month's periods, the day totals the forecasts of month limits read, and the last batch
    /// they include: one query, whose snapshot the batch chain then continues from.
    /// </summary>
    private async Task ReloadUsageAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var stored = await store.LoadAsync(Tenant, TenantBudget.PeriodStart(Periods.Month, now), _budget.ForecastMeters, TenantBudget.HistoryStart(now), ct);
        _budget.ReplaceUsage(stored.Totals);
        _lastBatch = stored.Sequence;
        // Known at once, unlike the other kinds: a forecast alert out must be known to be re-armed.
        foreach (var meter in stored.ForecastAlerted)
            (_alerted ??= []).Add((meter, Periods.Month, TenantBudget.PeriodStart(Periods.Month, now), AlertKinds.Forecast));
    }

    public Task<BudgetView> GetBudget() => Task.FromResult(View(clock.GetUtcNow()));

    public Task Refresh() => AfterChangeAsync(CancellationToken.None);

    public async Task<bool> VoidUsage(Metering.Contracts.Billing.UsageVoided voided)
    {
        // cost_usd is given back at today's rate card, as usage is charged against it at the card in effect when applied.
        var cost = rateCards.AtMoment(voided.Meter, voided.Model, voided.GpuType, voided.Quantity, clock.GetUtcNow());
        var giveBack = new UsageIncrement(voided.UsageId, voided.Meter, -voided.Quantity, voided.Day, Cost: -cost);
        if (!await store.VoidAsync(Tenant, giveBack, CancellationToken.None)) return false;
        foreach (var total in PeriodTotal.Of(giveBack)) _budget.Add(total);
        await AfterChangeAsync(CancellationToken.None);
        return true;
    }

    public async Task<BudgetView> SetQuota(IReadOnlyList<QuotaLimit> limits, string changedBy)
    {
        var now = clock.GetUtcNow();
        await quotas.SaveAsync(Tenant, _budget.Limits, limits, changedBy, now, CancellationToken.None);
        var forecastMeters = _budget.ForecastMeters;
        _budget.SetLimits(limits);
        // A meter's first month limit needs its day totals, read with the batch they include so none counts twice.
        if (_budget.ForecastMeters.Except(forecastMeters).Any()) await ReloadUsageAsync(CancellationToken.None);
        await AfterChangeAsync(CancellationToken.None, forecastsNow: true);
        return View(now);
    }

    public async Task<AuthorizeResponse> Authorize(AuthorizeRequest request)
    {
        var now = clock.GetUtcNow();
        var expired = _budget.Expire(now);
        var decision = _budget.Authorize(request.Meter, request.Quantity, now, request.Model, request.GpuType);
        if (!decision.Allowed) return new AuthorizeResponse(false, decision.Reason, decision.RetryAfterSeconds);
        if (!request.Reserve) return new AuthorizeResponse(true);
        var room = _budget.MayReserve(reservations.Value.MaxOpen, now);
        if (!room.Allowed) return new AuthorizeResponse(false, room.Reason, room.RetryAfterSeconds);

        // Held in memory before the first await, so an interleaved authorize already sees it.
        var reservation = new Reservation(Guid.NewGuid().ToString("N"), request.Meter, request.Quantity, now + ReservationLifetime, request.Model, request.GpuType);
        _budget.Reserve(reservation);
        try
        {
            await store.AddReservationAsync(Tenant, reservation, CancellationToken.None);
            if (expired.Count > 0) await store.DeleteReservationsAsync(Tenant, expired.Select(r => r.Id), CancellationToken.None);
        }
        catch
        {
            _budget.Settle(reservation.Id);
            throw;
        }
        return new AuthorizeResponse(true, ReservationId: reservation.Id);
    }

    private BudgetView View(DateTimeOffset now) => _budget.View(Tenant, now);

    /// <summary>Broadcasts a changed status, alerts on new crossings, and wakes up when the next period begins.</summary>
    private async Task AfterChangeAsync(CancellationToken ct, bool forecastsNow = false)
    {
        var now = clock.GetUtcNow();
        _budget.ForgetEndedPeriods(now);
        // Evaluated once per change: this runs for every batch of the tenant's usage.
        var states = _budget.Evaluate(now);
        var (status, reason) = TenantBudget.StatusOf(states);
        if (status != _publishedStatus)
        {
            await broadcast.PublishAsync(new BudgetStatusChanged(Tenant, status, reason, now), ct);
            await store.SaveStatusAsync(Tenant, status, now, ct);
            logger.LogInformation("Tenant {Tenant} is now {Status}: {Reason}", Tenant, status, reason ?? "within every limit");
            Diagnostics.BudgetMetrics.StatusChanged(_publishedStatus, status);
            _publishedStatus = status;
        }

        foreach (var state in states)
        {
            var kind = state.Reached ? AlertKinds.Limit : state.SoftCrossed ? AlertKinds.Soft : null;
            // Known crossings are remembered here, so a tenant over a threshold does not cost a query per batch.
            var crossing = (state.Limit.Meter, state.Limit.Period, state.PeriodStart, kind ?? "");
            if (kind is null || _alerted?.Contains(crossing) == true) continue;
            var alert = new BudgetAlert(Tenant, state.Limit.Meter, state.Limit.Period, state.PeriodStart, kind, state.Used, state.Limit.Limit, now);
            var first = await store.TryRecordAlertAsync(alert, ct);
            (_alerted ??= []).Add(crossing);
            if (!first) continue;
            await broadcast.PublishAsync(alert, ct);
        }

        await ForecastAlertsAsync(states, now, forecastsNow, ct);

        _resetTimer?.Dispose();
        _resetTimer = null;
        if (status == BudgetStatuses.Ok || _budget.Limits.Count == 0) return;
        // Not ok until a period ends: stay active and re-evaluate right after the next boundary, so the status that
        // platform services see is lifted at midnight UTC (or the 1st of the month) without waiting for new usage.
        var nextReset = states.Min(s => s.ResetsAt);
        var due = nextReset - now + TimeSpan.FromMilliseconds(50);
        DelayDeactivation(due + TimeSpan.FromMinutes(1));
        _resetTimer = this.RegisterGrainTimer(_ => AfterChangeAsync(CancellationToken.None), new GrainTimerCreationOptions(due, Timeout.InfiniteTimeSpan));
    }

    /// <summary>
    /// A <c>forecast</c> alert per month limit whose month-end forecast exceeds it, re-armed under 90 % (<see cref="LimitForecasts.Decide"/>).
    /// Only month limits have a forecast: a tenant without one does nothing here. At most every <see cref="ForecastAlertInterval"/>
    /// unless <paramref name="immediately"/>; a change before then is evaluated by a timer when the interval ends.
    /// </summary>
    private async Task ForecastAlertsAsync(IReadOnlyList<LimitState> states, DateTimeOffset now, bool immediately, CancellationToken ct)
    {
        if (!states.Any(s => s.Limit.Period == Periods.Month)) return;
        if (!immediately && now < _forecastsDue)
        {
            _forecastTimer ??= this.RegisterGrainTimer(async _ =>
            {
                _forecastTimer?.Dispose();
                _forecastTimer = null;
                var at = clock.GetUtcNow();
                await ForecastAlertsAsync(_budget.Evaluate(at), at, immediately: true, CancellationToken.None);
            }, new GrainTimerCreationOptions(_forecastsDue - now, Timeout.InfiniteTimeSpan) { KeepAlive = true });
            return;
        }
        _forecastsDue = now + ForecastAlertInterval;
        foreach (var state in states)
        {
            if (state.Limit.Period != Periods.Month) continue;
            var forecast = _budget.ForecastOf(state.Limit, now)?.UsedAtPeriodEnd;
            var crossing = (state.Limit.Meter, state.Limit.Period, state.PeriodStart, AlertKinds.Forecast);
            switch (LimitForecasts.Decide(forecast, state.Limit.Limit, _alerted?.Contains(crossing) == true))
            {
                case ForecastAlertStep.Alert:
                    var alert = new BudgetAlert(Tenant, state.Limit.Meter, state.Limit.Period, state.PeriodStart, AlertKinds.Forecast, state.Used,
                        state.Limit.Limit, now, forecast);
                    var first = await store.TryRecordAlertAsync(alert, ct);
                    (_alerted ??= []).Add(crossing);
                    if (first) await broadcast.PublishAsync(alert, ct);
                    break;
                case ForecastAlertStep.Rearm:
                    await store.RearmAlertAsync(Tenant, state.Limit.Meter, state.Limit.Period, state.PeriodStart, AlertKinds.Forecast, ct);
                    _alerted!.Remove(crossing);
                    break;
            }
        }
    }
}
