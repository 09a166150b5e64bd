using Metering.Budgets.TenantBudgets;
using Metering.Contracts.Budgets;

namespace Metering.UnitTests;

public class BatchTotalsTests
{
    private static readonly DateOnly Day = new(2026, 11, 23);
    private static readonly DateOnly Month = new(2026, 11, 1);

    [Fact]
    public void A_batch_is_summed_per_tenant_and_total_in_the_order_totals_are_locked_in()
    {
        var totals = BatchTotals.Of([
            ("b", new UsageIncrement("1", Meters.OutputTokens, 4, Day)),
            ("a", new UsageIncrement("2", Meters.InputTokens, 2, Day, ReservationId: "r1", Cost: 0.25m)),
            ("a", new UsageIncrement("3", Meters.InputTokens, 3, Day.AddDays(-1), Cost: 0.5m)),
            ("a", new UsageIncrement("4", Meters.InputTokens, 5, Day)),
        ]);

        Assert.Equal(
            [("a", new PeriodTotal(CostMeter.CostUsd, Periods.Day, Day.AddDays(-1), 0.5m)), ("a", new PeriodTotal(Meters.InputTokens, Periods.Day, Day.AddDays(-1), 3)),
             ("a", new PeriodTotal(CostMeter.CostUsd, Periods.Day, Day, 0.25m)), ("a", new PeriodTotal(Meters.InputTokens, Periods.Day, Day, 7)),
             ("a", new PeriodTotal(CostMeter.CostUsd, Periods.Month, Month, 0.75m)), ("a", new PeriodTotal(Meters.InputTokens, Periods.Month, Month, 10)),
             ("b", new PeriodTotal(Meters.OutputTokens, Periods.Day, Day, 4)), ("b", new PeriodTotal(Meters.OutputTokens, Periods.Month, Month, 4))],
            totals.Rows);
        var a = totals.UsageOf("a");
        Assert.Equal(totals.Rows.Where(r => r.Tenant == "a").Select(r => r.Total).OrderBy(t => t.ToString()), a.Totals.OrderBy(t => t.ToString()));
        Assert.Equal(["r1"], a.Settled);
        Assert.Equal(0.75m, a.Cost);
        Assert.Same(AppliedUsage.None, totals.UsageOf("c"));
    }

    [Fact]
    public void What_a_tenants_grain_takes_in_adds_up_to_what_each_increment_adds()
    {
        var increments = Enumerable.Range(0, 50)
            .Select(i => new UsageIncrement($"{i}", i % 3 == 0 ? Meters.InputTokens : Meters.GpuSeconds, i * 1.5m, Day.AddDays(-(i % 4)), Cost: i % 2 * 0.0001m))
            .ToList();
        var oneByOne = new TenantBudget();
        foreach (var increment in increments)
            foreach (var total in PeriodTotal.Of(increment)) oneByOne.Add(total);
        var summed = new TenantBudget();
        foreach (var total in BatchTotals.Of(increments.Select(i => ("t", i))).UsageOf("t").Totals) summed.Add(total);

        foreach (var meter in new[] { Meters.InputTokens, Meters.GpuSeconds, CostMeter.CostUsd })
        {
            Assert.Equal(oneByOne.Used(meter, Periods.Month, Month), summed.Used(meter, Periods.Month, Month));
            for (var d = 0; d < 4; d++) Assert.Equal(oneByOne.Used(meter, Periods.Day, Day.AddDays(-d)), summed.Used(meter, Periods.Day, Day.AddDays(-d)));
        }
        Assert.NotEqual(0, summed.Used(CostMeter.CostUsd, Periods.Month, Month));
    }
}
