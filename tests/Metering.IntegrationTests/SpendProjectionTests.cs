using Metering.Billing.Spend;

namespace Metering.IntegrationTests;

/// <summary>
/// The spend projection and query on a real event store: attribution to the team charged across a re-mapping and a
/// void, a rebuild, a month by tenant equal to the invoice totals (with an adjustment), a day series across a rate-card change.
/// </summary>
public sealed class SpendProjectionTests() : BillingStorageTests("spend_tests")
{
    private static readonly DateTimeOffset October = new(2026, 10, 1, 12, 0, 0, TimeSpan.Zero);
    private const string Tenant = "acme", Month = "2026-10";

    private SpendQuery Query => new(Billing.Store, Billing.Database);

    private static DateTimeOffset Day(int day) => October.AddDays(day - 1);

    private static RecordedUsage Tokens(string id, int day, decimal quantity, string? feature = null) =>
        new(id, Meters.OutputTokens, quantity, Day(day), "llama", null, "chat-api", feature);

    private static RateCardVersionAdded Version(int number, DateOnly from, decimal price) =>
        new(number, "USD", from, [new RateCardPrice(Meters.OutputTokens, "llama", null, price)], October, "test");

    private static SpendRequest Request(string groupBy, string granularity = SpendGranularity.Day, string from = "2026-10-01", string to = "2026-11-30") =>
        new(DateOnly.Parse(from, CultureInfo.InvariantCulture), DateOnly.Parse(to, CultureInfo.InvariantCulture), groupBy, granularity);

    private static List<(string? Key, string Date, string Cost)> Points(Metering.Contracts.Billing.SpendView view) =>
        view.Series.SelectMany(s => s.Points.Select(p => (s.Key, p.Date, p.Cost))).ToList();

    private async Task<List<string>> TableRowsAsync()
    {
        var rows = new List<string>();
        foreach (var table in new[] { SpendTables.Daily, SpendTables.TeamDaily })
            rows.AddRange((await Billing.RowsAsync(table)).Select(row => $"{table} {row}"));
        return rows;
    }

    [Fact]
    public async Task A_day_whose_usage_was_voided_keeps_its_zero_rows_but_shows_no_point_by_team_or_by_tenant()
    {
        await Billing.AppendAsync(RateCardHistory.StreamKey, Version(1, new DateOnly(2026, 10, 1), 2.00m));
        await Billing.AppendAsync(TeamDirectory.StreamKey, new TeamDefined("nlp", "NLP", "CC-1", null, October, "admin"), new TenantTeamAssigned(Tenant, "nlp", October, "admin"));
        var stream = BillingPeriod.UsageStream(Tenant, Month);
        await Billing.AppendAsync(stream, new UsageBatchRecorded(Tenant, Month, [Tokens("a", 3, 1_000_000), Tokens("b", 5, 1_000_000)]));
        await Billing.CatchUpAsync();
        await Billing.AppendAsync(stream, new UsageVoidRecorded(Tenant, Month, Tokens("b", 5, 1_000_000), null, "test", October, "admin"));
        await Billing.CatchUpAsync();

        // The rollup's rows are one per key, read without summing (by team): the zero row is filtered all the same.
        Assert.Contains($"{SpendTables.TeamDaily} (2026-10-05,nlp,output_tokens,llama,\"\",0)", await TableRowsAsync());
        foreach (var request in new[] { Request(SpendGroups.Team), Request(SpendGroups.Team) with { Team = "nlp" }, Request(SpendGroups.Team, SpendGranularity.Month) })
            Assert.Equal([("nlp", request.Granularity == SpendGranularity.Day ? "2026-10-03" : "2026-10", "2.00")],
                Points(await Query.RunAsync(request, CancellationToken.None)));
        Assert.Equal([(Tenant, "2026-10-03", "2.00")], Points(await Query.RunAsync(Request(SpendGroups.Tenant), CancellationToken.None)));
        Assert.Equal([((string?)null, "2026-10-03", "2.00")], Points(await Query.RunAsync(Request(SpendGroups.Feature) with { Tenant = Tenant }, CancellationToken.None)));
    }

    [Fact]
    public async Task Usage_and_voids_count_for_the_team_charged_across_a_remapping_and_a_rebuild_writes_the_same_rows()
    {
        await Billing.AppendAsync(RateCardHistory.StreamKey, Version(1, new DateOnly(2026, 10, 1), 2.00m));
        await Billing.AppendAsync(TeamDirectory.StreamKey, new TeamDefined("nlp", "NLP", "CC-1", null, October, "admin"), new TenantTeamAssigned(Tenant, "nlp", October, "admin"));
        var stream = BillingPeriod.UsageStream(Tenant, Month);
        await Billing.AppendAsync(stream, new UsageBatchRecorded(Tenant, Month, [Tokens("a", 3, 1_000_000, "search"), Tokens("b", 3, 2_000_000)]));
        await Billing.CatchUpAsync();
        // The tenant moves to vision: later usage is vision's, but the void of usage recorded before is taken from nlp.
        await Billing.AppendAsync(TeamDirectory.StreamKey, new TeamDefined("vision", "Vision", "CC-2", null, October, "admin"), new TenantTeamAssigned(Tenant, "vision", October, "admin"));
        await Billing.AppendAsync(stream, new UsageBatchRecorded(Tenant, Month, [Tokens("c", 4, 1_000_000, "search")]));
        await Billing.AppendAsync(stream, new UsageVoidRecorded(Tenant, Month, Tokens("a", 3, 1_000_000, "search"), null, "test", October, "admin"));
        await Billing.CatchUpAsync();

        var byTeam = await Query.RunAsync(Request(SpendGroups.Team), CancellationToken.None);
        Assert.Equal([("nlp", "2026-10-03", "4.00"), ("vision", "2026-10-04", "2.00")], Points(byTeam));
        Assert.Equal("6.00", byTeam.Total);
        var byFeature = await Query.RunAsync(Request(SpendGroups.Feature), CancellationToken.None);
        Assert.Equal([(null, "2026-10-03", "4.00"), ("search", "2026-10-04", "2.00")], Points(byFeature));
        var vision = await Query.RunAsync(Request(SpendGroups.Tenant) with { Team = "vision" }, CancellationToken.None);
        Assert.Equal([(Tenant, "2026-10-04", "2.00")], Points(vision));

        var before = await TableRowsAsync();
        Assert.NotEmpty(before);
        await Metering.Billing.Rebuilds.ProjectionRebuild.RunAsync(Billing.Store, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, CancellationToken.None);
        Assert.Equal(before, await TableRowsAsync());
    }

    [Fact]
    public async Task A_whole_month_by_tenant_is_the_invoice_totals_and_days_are_priced_with_the_version_of_their_day()
    {
        await Billing.AppendAsync(RateCardHistory.StreamKey, Version(1, new DateOnly(2026, 10, 1), 2.40m), Version(2, new DateOnly(2026, 10, 15), 2.00m));
        var october = BillingPeriod.UsageStream(Tenant, Month);
        // Two lines that each round down to 0.00 on the invoice, while their exact sum is 0.008… and rounds to 0.01.
        await Billing.AppendAsync(october, new UsageBatchRecorded(Tenant, Month, [Tokens("a", 3, 1_667), Tokens("b", 20, 2_004)]));
        await Billing.AppendAsync(BillingPeriod.UsageStream("beta", Month), new UsageBatchRecorded("beta", Month, [Tokens("c", 3, 1_000_000), Tokens("d", 20, 1_000_000)]));
        await using (var session = Billing.Store.QuerySession())
        {
            var usage = await session.LoadAsync<MonthlyUsage>(october);
            var (lines, total) = InvoicePricing.Price(usage!, await session.LoadAsync<RateCardHistory>(RateCardHistory.StreamKey));
            await Billing.AppendAsync(october, new InvoiceFinalized(Tenant, Month, lines, total.ToString("0.00", CultureInfo.InvariantCulture), October, "admin", 2));
        }
        // October is finalized: late October usage is an adjustment on November's invoice, but counts on its own day in spend.
        await Billing.AppendAsync(BillingPeriod.UsageStream(Tenant, "2026-11"),
            new UsageBatchRecorded(Tenant, "2026-11", [Tokens("late", 21, 1_000_000)], AdjustmentFor: Month, FrozenRateCards: 2),
            new UsageBatchRecorded(Tenant, "2026-11", [Tokens("e", 33, 2_004)]));
        await Billing.CatchUpAsync();

        var months = await Query.RunAsync(Request(SpendGroups.Tenant, SpendGranularity.Month), CancellationToken.None);
        Assert.Equal([("beta", "2026-10", "4.40"), (Tenant, "2026-10", "0.00"), (Tenant, "2026-11", "2.00")], Points(months));
        Assert.Equal("6.40", months.Total);
        await using (var session = Billing.Store.QuerySession())
        {
            var invoices = (await MonthInvoices.TotalsAsync(session, Billing.Database, "2026-11", null, CancellationToken.None)).Single();
            Assert.Equal((InvoiceTotal)new(Tenant, "draft", 2.00m), invoices);
        }

        // Not whole months: the usage of the days in range, each day at its own price, rounded once per point.
        var partial = await Query.RunAsync(Request(SpendGroups.Tenant, SpendGranularity.Month, "2026-10-02", "2026-11-29"), CancellationToken.None);
        Assert.Equal([("beta", "2026-10", "4.40"), (Tenant, "2026-10", "2.01"), (Tenant, "2026-11", "0.00")], Points(partial));

        var days = await Query.RunAsync(Request(SpendGroups.Meter) with { Tenant = "beta" }, CancellationToken.None);
        Assert.Equal([(Meters.OutputTokens, "2026-10-03", "2.40"), (Meters.OutputTokens, "2026-10-20", "2.00")], Points(days));
        Assert.Equal([1_000_000m, 1_000_000m], days.Series.Single().Points.Select(p => p.Quantity));
    }

    [Fact]
    public async Task By_tenant_over_whole_months_the_unpriced_quantity_of_those_months_comes_from_the_team_rollup_not_the_tenant_rows()
    {
        await Billing.AppendAsync(RateCardHistory.StreamKey, Version(1, new DateOnly(2026, 9, 1), 2.00m));
        // Priced usage in September (a partial month of the range), unpriced usage (a model without a price) in October.
        await Billing.AppendAsync(BillingPeriod.UsageStream(Tenant, "2026-09"), new UsageBatchRecorded(Tenant, "2026-09", [Tokens("s", -5, 1_000_000)]));
        await Billing.AppendAsync(BillingPeriod.UsageStream(Tenant, Month), new UsageBatchRecorded(Tenant, Month,
            [Tokens("a", 3, 1_000_000), Tokens("u1", 4, 700) with { Model = "unpriced-model" }]));
        await Billing.AppendAsync(BillingPeriod.UsageStream("beta", Month), new UsageBatchRecorded("beta", Month, [Tokens("u2", 9, 300) with { Model = "unpriced-model" }]));
        await Billing.CatchUpAsync();

        var request = Request(SpendGroups.Tenant, SpendGranularity.Month, "2026-09-20", "2026-10-31");
        var view = await Query.RunAsync(request, CancellationToken.None);
        Assert.Equal([(Tenant, "2026-09", "2.00"), (Tenant, "2026-10", "2.00"), ("beta", "2026-10", "0.00")], Points(view));
        Assert.Equal(1_000m, view.UnpricedQuantity);

        // October's per-tenant rows are not read for this view: without them it is the same (September's still are).
        Assert.True(await Billing.ExecuteAsync($"delete from {Billing.Name}.{SpendTables.Daily} where day >= '2026-10-01'") > 0);
        var again = await Query.RunAsync(request, CancellationToken.None);
        Assert.Equal(Points(view), Points(again));
        Assert.Equal((view.UnpricedQuantity, view.Total), (again.UnpricedQuantity, again.Total));
    }
}
