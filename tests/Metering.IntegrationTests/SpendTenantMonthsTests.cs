using Metering.Billing.Spend;

namespace Metering.IntegrationTests;

/// <summary>
/// Spend by tenant and month from the tenant month rollup: the same views as pricing the per-tenant daily rows (a void,
/// a team change mid-month, unpriced usage, filters, a team's scope), the daily rows where one version cannot price the
/// span (a version taking effect mid-month, usage after the range), and the rollup restored by a rebuild and by migrate.
/// </summary>
public sealed class SpendTenantMonthsTests() : BillingStorageTests("spend_months")
{
    private static readonly DateTimeOffset October = new(2026, 10, 1, 12, 0, 0, TimeSpan.Zero);
    private const string Month = "2026-10";

    private string Schema => Billing.Name;

    private SpendQuery Query => new(Billing.Store, Billing.Database);

    private static RecordedUsage Tokens(string id, int day, decimal quantity, string model = "llama") =>
        new(id, Meters.OutputTokens, quantity, October.AddDays(day - 1), model, null, "chat-api", null);

    private static RecordedUsage GpuSeconds(string id, int day, decimal quantity) =>
        new(id, Meters.GpuSeconds, quantity, October.AddDays(day - 1), null, "h100", "batch", null);

    private static RateCardVersionAdded Version(int number, DateOnly from, decimal tokenPrice, decimal gpuPrice) =>
        new(number, "USD", from, [new RateCardPrice(Meters.OutputTokens, "llama", null, tokenPrice), new RateCardPrice(Meters.GpuSeconds, null, "h100", gpuPrice)],
            October, "test");

    private static SpendRequest ByTenantMonth(string from, string to) =>
        new(DateOnly.Parse(from, CultureInfo.InvariantCulture), DateOnly.Parse(to, CultureInfo.InvariantCulture), SpendGroups.Tenant, SpendGranularity.Month);

    /// <summary>The view priced from the per-tenant daily rows, each day with its own version: the numbers the API gave before the rollup.</summary>
    private async Task<SpendView> FromDailyRowsAsync(SpendRequest request)
    {
        var (rows, rateCards) = await Query.ReadAsync(request, CancellationToken.None);
        return SpendPricing.Price(request, rows, rateCards);
    }

    private static string Shown(SpendView view) =>
        string.Join("; ", view.Series.SelectMany(s => s.Points.Select(p => $"{s.Key} {p.Date} {p.Quantity?.ToString(CultureInfo.InvariantCulture)} {p.Cost}")))
        + $" | unpriced {view.UnpricedQuantity?.ToString(CultureInfo.InvariantCulture)} | total {view.Total}";

    private async Task SeedMonthAsync()
    {
        await Billing.AppendAsync(TeamDirectory.StreamKey, new TeamDefined("nlp", "NLP", "CC-1", null, October, "admin"),
            new TeamDefined("vision", "Vision", "CC-2", null, October, "admin"), new TenantTeamAssigned("acme", "nlp", October, "admin"));
        var acme = BillingPeriod.UsageStream("acme", Month);
        await Billing.AppendAsync(acme, new UsageBatchRecorded("acme", Month,
            [Tokens("a", 3, 1_500_000), Tokens("b", 5, 1_000_000), GpuSeconds("g", 5, 7_200), Tokens("u", 6, 700, "unpriced-model")]));
        await Billing.AppendAsync(BillingPeriod.UsageStream("beta", Month), new UsageBatchRecorded("beta", Month, [Tokens("c", 2, 333_333), Tokens("d", 19, 666_667)]));
        await Billing.CatchUpAsync();
        // Mid-month acme moves to vision; the void of usage recorded before is taken from nlp, later usage is vision's.
        await Billing.AppendAsync(TeamDirectory.StreamKey, new TenantTeamAssigned("acme", "vision", October, "admin"));
        await Billing.AppendAsync(acme, new UsageVoidRecorded("acme", Month, Tokens("b", 5, 1_000_000), null, "test", October, "admin"),
            new UsageBatchRecorded("acme", Month, [Tokens("e", 20, 250_000), Tokens("v", 20, 300, "unpriced-model")]));
        await Billing.CatchUpAsync();
    }

    [Fact]
    public async Task Month_to_date_by_tenant_from_the_rollup_equals_the_daily_rows_priced_with_a_void_a_team_change_and_unpriced_usage()
    {
        await Billing.AppendAsync(RateCardHistory.StreamKey, Version(1, new DateOnly(2026, 9, 1), 2.40m, 3.96m));
        await SeedMonthAsync();

        var requests = new[]
        {
            ByTenantMonth("2026-10-01", "2026-10-20"),
            ByTenantMonth("2026-10-01", "2026-10-25"),
            ByTenantMonth("2026-09-01", "2026-10-20"),
            ByTenantMonth("2026-10-01", "2026-10-20") with { Meter = Meters.OutputTokens },
            ByTenantMonth("2026-10-01", "2026-10-20") with { Team = "nlp" },
            ByTenantMonth("2026-10-01", "2026-10-20") with { Team = "vision" },
            ByTenantMonth("2026-10-01", "2026-10-20") with { Tenant = "acme" },
        };
        var expected = new List<string>();
        foreach (var request in requests)
        {
            var view = await Query.RunAsync(request, CancellationToken.None);
            Assert.Equal(Shown(await FromDailyRowsAsync(request)), Shown(view));
            expected.Add(Shown(view));
        }
        // acme: 1.5M tokens × 2.40 + 2 GPU hours × 3.96 + 0.25M × 2.40 = 3.60 + 7.92 + 0.60; beta: 1M tokens × 2.40.
        Assert.Equal("acme 2026-10  12.12; beta 2026-10  2.40 | unpriced 1000 | total 14.52", expected[0]);
        Assert.Equal("acme 2026-10 1751000 4.20; beta 2026-10 1000000 2.40 | unpriced 1000 | total 6.60", expected[3]);
        Assert.Equal("acme 2026-10  11.52 | unpriced 700 | total 11.52", expected[4]);

        // The per-tenant daily rows of October are not read for these views: without them they are the same.
        Assert.True(await Billing.ExecuteAsync($"delete from {Schema}.{SpendTables.Daily} where day >= '2026-10-01'") > 0);
        for (var i = 0; i < requests.Length; i++) Assert.Equal(expected[i], Shown(await Query.RunAsync(requests[i], CancellationToken.None)));
    }

    [Fact]
    public async Task A_version_taking_effect_mid_month_or_usage_after_the_range_reads_the_daily_rows()
    {
        await Billing.AppendAsync(RateCardHistory.StreamKey, Version(1, new DateOnly(2026, 9, 1), 2.40m, 3.96m), Version(2, new DateOnly(2026, 10, 10), 2.00m, 3.60m));
        await SeedMonthAsync();

        // Days before the 10th at version 1's prices, from the 10th at version 2's: the rollup's one price cannot give it.
        var acrossVersions = ByTenantMonth("2026-10-01", "2026-10-20");
        var view = await Query.RunAsync(acrossVersions, CancellationToken.None);
        Assert.Equal(Shown(await FromDailyRowsAsync(acrossVersions)), Shown(view));
        Assert.Equal("acme 2026-10  12.02; beta 2026-10  2.13 | unpriced 1000 | total 14.15", Shown(view));

        // One version prices 1–9 October, but usage after the 9th is in the month's rollup: the daily rows again.
        var beforeTheChange = ByTenantMonth("2026-10-01", "2026-10-09");
        var early = await Query.RunAsync(beforeTheChange, CancellationToken.None);
        Assert.Equal(Shown(await FromDailyRowsAsync(beforeTheChange)), Shown(early));
        Assert.Equal("acme 2026-10  11.52; beta 2026-10  0.80 | unpriced 700 | total 12.32", Shown(early));
    }

    private Task<List<string>> RollupRowsAsync() => Billing.RowsAsync(SpendTables.TenantMonthly);

    [Fact]
    public async Task A_rebuild_and_a_migrate_that_creates_the_rollup_restore_it_from_the_log_and_the_daily_rows()
    {
        await Billing.AppendAsync(RateCardHistory.StreamKey, Version(1, new DateOnly(2026, 9, 1), 2.40m, 3.96m));
        await SeedMonthAsync();
        var before = await RollupRowsAsync();
        // The void leaves nlp's row of acme's tokens at 1.5M (2.5M − 1M); the move gives vision its own row.
        Assert.Contains("(2026-10-01,acme,nlp,output_tokens,llama,\"\",1500000)", before);
        Assert.Contains("(2026-10-01,acme,vision,output_tokens,llama,\"\",250000)", before);

        await Metering.Billing.Rebuilds.ProjectionRebuild.RunAsync(Billing.Store, NullLogger.Instance, CancellationToken.None);
        Assert.Equal(before, await RollupRowsAsync());

        // A store projected before the rollup existed: migrate creates it filled from the daily rows.
        await Billing.ExecuteAsync($"drop table {Schema}.{SpendTables.TenantMonthly}");
        using var migrated = DocumentStore.For(o => BillingStore.Configure(o, TestInfrastructure.Postgres, Schema));
        await migrated.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
        Assert.Equal(before, await RollupRowsAsync());
    }
}
