using Metering.Billing.Invoices;
using Metering.Billing.TenantMonths;
using Metering.Budgets.TenantBudgets;

namespace Metering.UnitTests;

public class UsageTotalsTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 23, 59, 59, TimeSpan.Zero);

    [Fact]
    public void An_increment_counts_in_its_utc_day_and_month()
    {
        var increment = UsageIncrement.From(new UsageEvent("a", "acme", Meters.GpuSeconds, 1.5m, Now.ToOffset(TimeSpan.FromHours(-5)), GpuType: "h100"));
        Assert.Equal(
            [new PeriodTotal(Meters.GpuSeconds, "day", new DateOnly(2026, 11, 23), 1.5m), new PeriodTotal(Meters.GpuSeconds, "month", new DateOnly(2026, 11, 1), 1.5m)],
            PeriodTotal.Of(increment));
    }

    [Fact]
    public void Monthly_usage_sums_per_meter_and_model_or_gpu_type()
    {
        RecordedUsage Recorded(string meter, decimal quantity, string? model = null, string? gpu = null) =>
            RecordedUsage.From(new UsageEvent(Guid.NewGuid().ToString(), "acme", meter, quantity, Now, model, gpu));

        var usage = MonthlyUsageProjection.Create(new UsageBatchRecorded("acme", "2026-11", [Recorded(Meters.OutputTokens, 10, "m1")]));
        usage = MonthlyUsageProjection.Apply(new UsageBatchRecorded("acme", "2026-11",
            [Recorded(Meters.OutputTokens, 5, "m1"), Recorded(Meters.OutputTokens, 7, "m2")]), usage);
        usage = MonthlyUsageProjection.Apply(new UsageBatchRecorded("acme", "2026-11",
            [Recorded(Meters.GpuSeconds, 0.25m, model: "m1", gpu: "h100"), Recorded(Meters.GpuSeconds, 0.5m, gpu: "h100")]), usage);

        Assert.Equal("usage:acme:2026-11", usage.Id);
        Assert.Equal(
            [new MonthlyUsageLine(Meters.OutputTokens, "m1", null, 15), new MonthlyUsageLine(Meters.OutputTokens, "m2", null, 7),
             new MonthlyUsageLine(Meters.GpuSeconds, null, "h100", 0.75m)],
            usage.Lines);
    }

    [Theory]
    [InlineData("2026-11", true)]
    [InlineData("2026-13", false)]
    [InlineData("2026-1", false)]
    [InlineData("2026-11-01", false)]
    public void Billing_periods_are_months(string period, bool valid) => Assert.Equal(valid, BillingPeriod.TryParse(period, out _));
}
