using Metering.Billing.Benchmarks;
using Metering.Billing.Forecast;
using Metering.Billing.Spend;
using Metering.Forecasting;
using Xunit.Abstractions;

namespace Metering.IntegrationTests;

/// <summary>
/// <c>Metering.Billing backtest</c> on a real event store: the spend the projection recorded over three months, per
/// tenant's team, backtested exactly as the library backtests the same daily series.
/// </summary>
public sealed class SpendBacktestTests(ITestOutputHelper output) : BillingStorageTests("spend_backtest")
{
    private static readonly DateOnly July = new(2026, 7, 1);
    private static readonly DateTimeOffset Now = new(2026, 10, 5, 8, 0, 0, TimeSpan.Zero);

    /// <summary>A million output tokens a day; from the 15th of each month three million.</summary>
    private static decimal Jumping(DateOnly day) => day.Day < 15 ? 1_000_000 : 3_000_000;

    [Fact]
    public async Task The_backtest_of_the_stores_spend_is_the_librarys_for_each_tenants_daily_spend()
    {
        var query = new SpendQuery(Billing.Store, Billing.Database);
        Assert.Equal("forecast backtest over the store's spend 2026-10-05 08:00:00Z: no complete month of spend recorded",
            await SpendBacktest.RunAsync(Billing.Store, query, Now, CancellationToken.None));

        await using (var session = Billing.Store.LightweightSession())
        {
            session.Events.Append(RateCardHistory.StreamKey, new RateCardVersionAdded(1, "USD", July, [new RateCardPrice(Meters.OutputTokens, "llama", null, 2.00m)], Now, "test"));
            session.Events.Append(TeamDirectory.StreamKey, new TeamDefined("steady", "Steady", "CC-1", null, Now, "admin"), new TenantTeamAssigned("flat", "steady", Now, "admin"));
            for (var day = July; day.Month < 10; day = day.AddDays(1))
            {
                var month = day.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture);
                var at = new DateTimeOffset(day.ToDateTime(new TimeOnly(12, 0)), TimeSpan.Zero);
                session.Events.Append(BillingPeriod.UsageStream("flat", month), new UsageBatchRecorded("flat", month, [new RecordedUsage($"f{day.DayNumber}", Meters.OutputTokens, 1_000_000, at, "llama", null, null, null)]));
                session.Events.Append(BillingPeriod.UsageStream("jump", month), new UsageBatchRecorded("jump", month, [new RecordedUsage($"j{day.DayNumber}", Meters.OutputTokens, Jumping(day), at, "llama", null, null, null)]));
            }
            await session.SaveChangesAsync();
        }
        using (var daemon = await Billing.Store.BuildProjectionDaemonAsync())
        {
            await daemon.StartAllAsync();
            await daemon.WaitForNonStaleData(TimeSpan.FromSeconds(60));
            await daemon.StopAllAsync();
        }

        var text = await SpendBacktest.RunAsync(Billing.Store, query, Now, CancellationToken.None);
        output.WriteLine(text);
        var report = text.Split(Environment.NewLine);

        Assert.StartsWith("forecast backtest over the store's spend 2026-10-05 08:00:00Z: 2 tenants, 2026-07 to 2026-09;", report[0], StringComparison.Ordinal);
        // The flat tenant is forecast exactly, inside a collapsed interval.
        Assert.Equal($"{"steady",-24} {3,7} {"0.0 %",11} {"0.0 %",11} {"100.0 %",14} {"100.0 %",14}", report[2]);
        var jump = BacktestSummary.Of(Backtest.Of(new DailySeries(July, Enumerable.Range(0, 92).Select(i => Jumping(July.AddDays(i)) / 1_000_000 * 2.00m).ToArray()), Backtest.DefaultDays));
        Assert.Equal($"{"unallocated",-24} {3,7} {Percent(jump[0].MeanAbsolutePercentageError),11} {Percent(jump[1].MeanAbsolutePercentageError),11} "
            + $"{Percent(jump[0].IntervalCoverage),14} {Percent(jump[1].IntervalCoverage),14}", report[3]);
        Assert.True(jump[0].MeanAbsolutePercentageError > 0.1m);   // the jump on the 15th is not foreseen on the 10th
        Assert.StartsWith("all ", report[4], StringComparison.Ordinal);
    }

    private static string Percent(decimal? share) => (share!.Value * 100).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture) + " %";
}
