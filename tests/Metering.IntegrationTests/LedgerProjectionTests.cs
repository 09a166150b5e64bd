using Metering.Billing.Chargeback.Capacity;
using Metering.Billing.Chargeback.Ledger;
using Statements = Metering.Billing.Chargeback.Statements;

namespace Metering.IntegrationTests;

/// <summary>The chargeback ledger on a real event store: repricing, a team change, finalize, idle capacity, and a rebuild.</summary>
public sealed class LedgerProjectionTests() : BillingStorageTests("ledger_tests")
{
    private static readonly DateTimeOffset At = new(2026, 10, 3, 12, 0, 0, TimeSpan.Zero);
    private const string Tenant = "acme", Month = "2026-10";

    private static RecordedUsage Usage(string id, string model, decimal quantity) => new(id, Meters.OutputTokens, quantity, At, model, null, null);

    private static RateCardVersionAdded Version(int number, params (string Model, decimal Price)[] prices) =>
        new(number, "USD", new DateOnly(2026, 10, 1), prices.Select(p => new RateCardPrice(Meters.OutputTokens, p.Model, null, p.Price)).ToList(), At, "test");

    private async Task<List<LedgerPosting>> CatchUpAndReadAsync()
    {
        await Billing.CatchUpAsync();
        await using var session = Billing.Store.QuerySession();
        return (await session.Query<LedgerPosting>().ToListAsync()).OrderBy(p => p.Sequence).ThenBy(p => p.Id, StringComparer.Ordinal).ToList();
    }

    [Fact]
    public async Task Postings_follow_the_invoice_through_repricing_a_team_change_and_finalize_and_a_rebuild_writes_them_again()
    {
        await GivenTheTenantInNlpAsync(2.40m);
        var stream = BillingPeriod.UsageStream(Tenant, Month);
        await Billing.AppendAsync(stream, new UsageBatchRecorded(Tenant, Month, [Usage("a", "llama", 1_004_166), Usage("b", "mistral", 500_000)]));
        await CatchUpAndReadAsync();

        // A later version prices the model that had no price: the ledger reprices the open month.
        await Billing.AppendAsync(RateCardHistory.StreamKey, Version(2, ("llama", 2.40m), ("mistral", 1.00m)));
        await Billing.AppendAsync(TeamDirectory.StreamKey, new TeamDefined("vision", "Vision", "CC-2", null, At, "admin"), new TenantTeamAssigned(Tenant, "vision", At, "admin"));
        await Billing.AppendAsync(stream, new UsageBatchRecorded(Tenant, Month, [Usage("c", "llama", 1_004_166)]));
        await CatchUpAndReadAsync();

        Assert.Equal(4.82m + 0.50m, await Billing.FinalizeAsync(Tenant, Month, At));
        await Billing.AppendAsync(CapacityCostRecorded.StreamKey(Month), new CapacityCostRecorded(Month, "chargeback", [new CapacityItem("h100", 1, 10m)], At, "admin"));
        var postings = await CatchUpAndReadAsync();

        Assert.Equal([PostingKinds.Usage, PostingKinds.Repricing, PostingKinds.Usage, PostingKinds.IdleAllocation], postings.Select(p => p.Kind));
        Assert.All(postings, p => Assert.Equal(0, p.Balance));
        Assert.Equal(("nlp", 2.41m), (postings[0].Team, postings[0].Lines.Where(l => LedgerAccounts.IsExpense(l.Account)).Sum(l => l.Amount)));
        Assert.Equal(("nlp", 0.50m), (postings[1].Team, postings[1].Lines.Where(l => LedgerAccounts.IsExpense(l.Account)).Sum(l => l.Amount)));
        Assert.Equal(("vision", 2.41m), (postings[2].Team, postings[2].Lines.Where(l => LedgerAccounts.IsExpense(l.Account)).Sum(l => l.Amount)));
        Assert.Equal([new PostingLine("expense:unallocated", 10m, GpuType: "h100"), new PostingLine(LedgerAccounts.GpuCapacity, -10m)], postings[3].Lines);
        await using (var session = Billing.Store.QuerySession())
        {
            var balance = await session.LoadAsync<LedgerBalance>(stream);
            Assert.Equal(5.32m, balance!.Lines.Sum(l => l.Amount));
        }

        var before = JsonSerializer.Serialize(postings);
        using (var daemon = await Billing.Store.BuildProjectionDaemonAsync())
            await daemon.RebuildProjectionAsync(LedgerProjection.Name, TimeSpan.FromMinutes(1), CancellationToken.None);
        await using (var session = Billing.Store.QuerySession())
        {
            var rebuilt = (await session.Query<LedgerPosting>().ToListAsync()).OrderBy(p => p.Sequence).ThenBy(p => p.Id, StringComparer.Ordinal).ToList();
            Assert.Equal(before, JsonSerializer.Serialize(rebuilt));
        }
    }
    private static RecordedUsage Gpu(string id, decimal seconds) => new(id, Meters.GpuSeconds, seconds, At, null, "h100", null);

    /// <summary>llama priced by version 1 of the rate card, and the tenant in team nlp.</summary>
    private async Task GivenTheTenantInNlpAsync(decimal llamaPrice)
    {
        await Billing.AppendAsync(RateCardHistory.StreamKey, Version(1, ("llama", llamaPrice)));
        await Billing.AppendAsync(TeamDirectory.StreamKey, new TeamDefined("nlp", "NLP", "CC-1", null, At, "admin"), new TenantTeamAssigned(Tenant, "nlp", At, "admin"));
    }

    [Fact]
    public async Task A_void_after_the_tenant_moved_teams_credits_the_team_that_was_charged()
    {
        await GivenTheTenantInNlpAsync(2.00m);
        var october = BillingPeriod.UsageStream(Tenant, Month);
        var november = BillingPeriod.UsageStream(Tenant, "2026-11");
        await Billing.AppendAsync(october, new UsageBatchRecorded(Tenant, Month, [Usage("a", "llama", 1_000_000), Usage("b", "llama", 2_000_000)]));
        await CatchUpAndReadAsync();
        await Billing.FinalizeAsync(Tenant, Month, At);
        await Billing.AppendAsync(TeamDirectory.StreamKey, new TeamDefined("vision", "Vision", "CC-2", null, At, "admin"), new TenantTeamAssigned(Tenant, "vision", At, "admin"));
        // The November usage is charged to the new team; voiding it credits that team, not the old one.
        await Billing.AppendAsync(november, new UsageBatchRecorded(Tenant, "2026-11", [Usage("c", "llama", 1_000_000) with { Timestamp = At.AddMonths(1) }]));
        // A void of the finalized October lands on November, correcting October.
        await Billing.AppendAsync(november, new UsageVoidRecorded(Tenant, "2026-11", Usage("a", "llama", 1_000_000), Month, "test", At, "admin"),
            new UsageVoidRecorded(Tenant, "2026-11", Usage("c", "llama", 1_000_000) with { Timestamp = At.AddMonths(1) }, null, "test", At, "admin"));

        var voids = (await CatchUpAndReadAsync()).Where(p => p.Kind == PostingKinds.Void).ToList();

        Assert.Equal([("nlp", Month, -2.00m), ("vision", (string?)null, -2.00m)],
            voids.Select(p => (p.Team!, p.Corrects, p.Lines.Where(l => LedgerAccounts.IsExpense(l.Account)).Sum(l => l.Amount))));
        Assert.Equal("expense:nlp", voids[0].Lines[0].Account);
        await using var session = Billing.Store.QuerySession();
        var balance = await session.LoadAsync<LedgerBalance>(november);
        Assert.Equal([("nlp", -2.00m), ("vision", 0m)], balance!.Lines.GroupBy(l => l.Team).OrderBy(g => g.Key).Select(g => (g.Key, g.Sum(l => l.Amount))));
    }

    [Fact]
    public async Task Idle_capacity_counts_the_months_gpu_usage_that_arrived_after_finalize()
    {
        await GivenTheTenantInNlpAsync(2.00m);
        var october = BillingPeriod.UsageStream(Tenant, Month);
        var november = BillingPeriod.UsageStream(Tenant, "2026-11");
        await Billing.AppendAsync(october, new UsageBatchRecorded(Tenant, Month, [Gpu("g1", 2 * 3_600)]));
        await CatchUpAndReadAsync();
        await Billing.FinalizeAsync(Tenant, Month, At);
        // Three more October GPU hours arrive after finalize, and one October hour is voided: November's stream, for October.
        await Billing.AppendAsync(november, new UsageBatchRecorded(Tenant, "2026-11", [Gpu("g2", 3 * 3_600)], AdjustmentFor: Month));
        await Billing.AppendAsync(november, new UsageVoidRecorded(Tenant, "2026-11", Gpu("g1", 2 * 3_600), Month, "test", At, "admin"),
            new UsageBatchRecorded(Tenant, "2026-11", [Gpu("g3", 3_600) with { Timestamp = At.AddMonths(1) }]));
        await Billing.AppendAsync(CapacityCostRecorded.StreamKey(Month), new CapacityCostRecorded(Month, "chargeback", [new CapacityItem("h100", 10, 100m)], At, "admin"));

        var idle = (await CatchUpAndReadAsync()).Single(p => p.Kind == PostingKinds.IdleAllocation);

        // October used 2 + 3 - 2 = 3 of 10 hours (November's own hour is not October's): 7 idle hours, 70.00.
        Assert.Equal([new PostingLine("expense:nlp", 70m, GpuType: "h100"), new PostingLine(LedgerAccounts.GpuCapacity, -70m)], idle.Lines);
        await using var session = Billing.Store.QuerySession();
        var allocation = (await session.LoadAsync<CapacityAllocation>(Month))!.Items.Single();
        Assert.Equal((3m, 7m, "70.00"), (allocation.MeteredHours, allocation.IdleHours, allocation.IdleCost));
    }
    [Fact]
    public async Task Statements_and_exports_keep_the_team_name_and_cost_centre_of_the_period_after_a_rename()
    {
        await GivenTheTenantInNlpAsync(2.00m);
        var october = BillingPeriod.UsageStream(Tenant, Month);
        await Billing.AppendAsync(october, new UsageBatchRecorded(Tenant, Month, [Usage("a", "llama", 1_000_000)]));
        await CatchUpAndReadAsync();
        await Billing.FinalizeAsync(Tenant, Month, At);
        await Billing.AppendAsync(TeamDirectory.StreamKey, new TeamDefined("nlp", "Language", "CC-9", null, At, "admin"));
        await Billing.AppendAsync(BillingPeriod.UsageStream(Tenant, "2026-11"), new UsageBatchRecorded(Tenant, "2026-11", [Usage("b", "llama", 1_000_000) with { Timestamp = At.AddMonths(1) }]));

        var postings = await CatchUpAndReadAsync();

        Assert.Equal([("2026-10", "NLP", "CC-1"), ("2026-11", "Language", "CC-9")],
            postings.Where(p => p.Kind == PostingKinds.Usage).Select(p => (p.Period, p.TeamName!, p.CostCenter!)));
        var past = await Statements.GetChargeback.LoadAsync(Billing.Store, Month, scope: null, CancellationToken.None);
        Assert.Equal(("NLP", "CC-1"), past.ToView(ledgerCurrent: true).Teams.Where(t => t.Team == "nlp").Select(t => (t.Name, t.CostCenter!)).Single());
        await using var query = Billing.Store.QuerySession();
        var focus = Statements.FocusExport.Write(past, await query.LoadAsync<RateCardHistory>(RateCardHistory.StreamKey));
        Assert.Contains("CC-1", focus);
        Assert.DoesNotContain("CC-9", focus);
        Assert.DoesNotContain("Language", focus);
        var csv = Statements.StatementCsv.Write(past);
        Assert.Contains("CC-1", csv);
        Assert.DoesNotContain("CC-9", csv);
        var now = await Statements.GetChargeback.LoadAsync(Billing.Store, "2026-11", scope: null, CancellationToken.None);
        Assert.Equal(("Language", "CC-9"), now.ToView(ledgerCurrent: true).Teams.Where(t => t.Team == "nlp").Select(t => (t.Name, t.CostCenter!)).Single());
    }
}
