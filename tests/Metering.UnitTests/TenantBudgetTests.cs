using Metering.Budgets.TenantBudgets;
using Metering.Contracts.Budgets;

namespace Metering.UnitTests;

/// <summary>The budget rules of PRODUCT §4 and §5 with an explicit clock.</summary>
public class TenantBudgetTests
{
    private static readonly DateTimeOffset Evening = new(2026, 11, 23, 23, 59, 0, TimeSpan.Zero);

    private static TenantBudget Budget(params QuotaLimit[] limits)
    {
        var budget = new TenantBudget();
        budget.SetLimits(limits);
        return budget;
    }

    private static void Use(TenantBudget budget, string meter, decimal quantity, DateTimeOffset at)
    {
        foreach (var total in PeriodTotal.Of(new UsageIncrement(Guid.NewGuid().ToString(), meter, quantity, DateOnly.FromDateTime(at.UtcDateTime))))
            budget.Add(total);
    }

    private static QuotaLimit Limit(string meter, string period, decimal limit, string enforcement = Enforcements.Throttle, int softPct = 80) =>
        new(meter, period, limit, softPct, enforcement);

    [Fact]
    public void Status_goes_ok_warning_throttled_as_thresholds_are_crossed()
    {
        var budget = Budget(Limit(Meters.InputTokens, Periods.Day, 1000));
        Use(budget, Meters.InputTokens, 799, Evening);
        Assert.Equal(BudgetStatuses.Ok, budget.Status(Evening).Status);
        Use(budget, Meters.InputTokens, 1, Evening);
        Assert.Equal(BudgetStatuses.Warning, budget.Status(Evening).Status);
        Use(budget, Meters.InputTokens, 200, Evening);
        Assert.Equal(BudgetStatuses.Throttled, budget.Status(Evening).Status);
    }

    [Fact]
    public void An_alert_limit_never_throttles()
    {
        var budget = Budget(Limit(Meters.GpuSeconds, Periods.Month, 10, Enforcements.Alert));
        Use(budget, Meters.GpuSeconds, 25, Evening);
        Assert.Equal(BudgetStatuses.Warning, budget.Status(Evening).Status);
        Assert.True(budget.Authorize(Meters.GpuSeconds, 100, Evening).Allowed);
    }

    [Fact]
    public void Authorize_allows_exactly_up_to_the_limit_counting_reservations()
    {
        var budget = Budget(Limit(Meters.OutputTokens, Periods.Month, 1000));
        Use(budget, Meters.OutputTokens, 600, Evening);
        budget.Reserve(new Reservation("r1", Meters.OutputTokens, 300, Evening.AddMinutes(5)));

        Assert.True(budget.Authorize(Meters.OutputTokens, 100, Evening).Allowed);
        var refused = budget.Authorize(Meters.OutputTokens, 101, Evening);
        Assert.False(refused.Allowed);
        Assert.Contains("used 600 + reserved 300 + requested 101", refused.Reason);
        // From 2026-11-23T23:59Z to the end of the month, 2026-12-01T00:00Z: 7 days and 60 s.
        Assert.Equal(7 * 86400 + 60, refused.RetryAfterSeconds);
        // Other meters are not covered by this limit.
        Assert.True(budget.Authorize(Meters.InputTokens, 1_000_000, Evening).Allowed);
    }

    [Fact]
    public void Settled_and_expired_reservations_stop_holding()
    {
        var budget = Budget(Limit(Meters.InputTokens, Periods.Day, 100));
        budget.Reserve(new Reservation("a", Meters.InputTokens, 60, Evening.AddSeconds(30)));
        budget.Reserve(new Reservation("b", Meters.InputTokens, 40, Evening.AddMinutes(5)));
        Assert.False(budget.Authorize(Meters.InputTokens, 1, Evening).Allowed);

        Assert.True(budget.Settle("b"));
        Assert.False(budget.Authorize(Meters.InputTokens, 41, Evening).Allowed);
        Assert.Equal(["a"], budget.Expire(Evening.AddSeconds(30)).Select(r => r.Id));
        Assert.True(budget.Authorize(Meters.InputTokens, 100, Evening.AddSeconds(30)).Allowed);
    }

    [Fact]
    public void The_day_limit_resets_at_midnight_utc_and_the_month_limit_does_not()
    {
        var budget = Budget(Limit(Meters.InputTokens, Periods.Day, 100), Limit(Meters.InputTokens, Periods.Month, 1000));
        Use(budget, Meters.InputTokens, 100, Evening);
        var refused = budget.Authorize(Meters.InputTokens, 1, Evening);
        Assert.Equal((false, 60L), (refused.Allowed, refused.RetryAfterSeconds));
        Assert.Equal(BudgetStatuses.Throttled, budget.Status(Evening).Status);

        var midnight = new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.Zero);
        Assert.Equal(BudgetStatuses.Ok, budget.Status(midnight).Status);
        Assert.True(budget.Authorize(Meters.InputTokens, 100, midnight).Allowed);
        Assert.Equal(100, budget.Evaluate(midnight).Single(s => s.Limit.Period == Periods.Month).Used);
        Assert.False(budget.Authorize(Meters.InputTokens, 901, midnight).Allowed);
    }

    [Fact]
    public void A_cost_limit_covers_every_meter_priced_and_counts_priced_reservations()
    {
        // 1 USD per 1,000 tokens of any meter, 2 USD per GPU-second.
        var budget = new TenantBudget((meter, _, _, quantity, _) => meter == Meters.GpuSeconds ? quantity * 2 : quantity / 1000);
        budget.SetLimits([Limit(CostMeter.CostUsd, Periods.Month, 10)]);
        budget.Add(new PeriodTotal(CostMeter.CostUsd, Periods.Month, new DateOnly(2026, 11, 1), 6));
        budget.Reserve(new Reservation("gpu", Meters.GpuSeconds, 1, Evening.AddMinutes(5)));

        // used 6 + reserved 2 (1 GPU-second) + 2,000 tokens (2) = 10: allowed; one token more is not.
        Assert.True(budget.Authorize(Meters.OutputTokens, 2000, Evening).Allowed);
        Assert.False(budget.Authorize(Meters.InputTokens, 2001, Evening).Allowed);
        Assert.False(budget.Authorize(Meters.GpuSeconds, 1.0005m, Evening).Allowed);
    }

    [Fact]
    public void Totals_of_ended_periods_are_forgotten_and_current_ones_kept()
    {
        var budget = Budget(Limit(Meters.InputTokens, Periods.Day, 1000), Limit(Meters.InputTokens, Periods.Month, 5000));
        Use(budget, Meters.InputTokens, 300, Evening);
        var morning = Evening.AddMinutes(2);
        Use(budget, Meters.InputTokens, 50, morning);

        budget.ForgetEndedPeriods(morning);

        Assert.Equal(0, budget.Used(Meters.InputTokens, Periods.Day, DateOnly.FromDateTime(Evening.UtcDateTime)));
        Assert.Equal(50, budget.Used(Meters.InputTokens, Periods.Day, DateOnly.FromDateTime(morning.UtcDateTime)));
        Assert.Equal(350, budget.Used(Meters.InputTokens, Periods.Month, new DateOnly(2026, 11, 1)));
        Assert.Equal([(Periods.Day, 50m), (Periods.Month, 350m)], budget.Current(morning).Select(t => (t.Period, t.Used)));
    }

    [Fact]
    public void Past_the_cap_of_open_reservations_another_is_refused_until_the_first_expires()
    {
        var budget = new TenantBudget();
        budget.Reserve(new Reservation("a", Meters.InputTokens, 1, Evening.AddSeconds(90)));
        budget.Reserve(new Reservation("b", Meters.InputTokens, 1, Evening.AddMinutes(5)));
        Assert.True(budget.MayReserve(3, Evening).Allowed);
        budget.Reserve(new Reservation("c", Meters.InputTokens, 1, Evening.AddMinutes(5)));

        var refused = budget.MayReserve(3, Evening);
        Assert.False(refused.Allowed);
        Assert.Contains("3 reservations are open", refused.Reason);
        Assert.Equal(90, refused.RetryAfterSeconds);

        // An expired one no longer counts, even before it is forgotten; a settled one frees its place at once.
        Assert.True(budget.MayReserve(3, Evening.AddSeconds(90)).Allowed);
        Assert.True(budget.Settle("b"));
        Assert.True(budget.MayReserve(3, Evening).Allowed);
    }

    [Fact]
    public void A_budget_with_nothing_in_it_is_ok_with_no_usage_and_no_limits()
    {
        var view = new TenantBudget().View("never-seen", Evening);
        Assert.Equal(("never-seen", BudgetStatuses.Ok), (view.Tenant, view.Status));
        Assert.Empty(view.Usage);
        Assert.Empty(view.Limits);
    }
}
