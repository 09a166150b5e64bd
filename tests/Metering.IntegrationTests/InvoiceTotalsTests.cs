using Metering.Billing.Invoices;
using Metering.Billing.RateCards;
using Metering.Billing.Usage;
using Metering.Billing.Spend;
using Metering.Billing.TenantMonths;
using Metering.Contracts.Billing;
using Metering.Pricing;

namespace Metering.IntegrationTests;

/// <summary>
/// A month's invoice totals (the invoice list, spend by tenant and month) from the spend rollup and the invoice marks
/// equal pricing every tenant's usage: finalized months as frozen, drafts, voids before and after a finalize, late usage,
/// usage a finalize left unpriced; and they are priced from the usage when the spend projection is behind or a rate-card
/// version takes effect mid-month. A migrate that creates the marks fills them from the invoices stored before.
/// </summary>
public sealed class InvoiceTotalsTests() : BillingStorageTests("invoice_totals")
{
    private static readonly DateTimeOffset AfterOctober = new(2026, 11, 2, 9, 0, 0, TimeSpan.Zero);

    private string Schema => Billing.Name;

    private UsageRecorder Recorder => new(Billing.Store, Billing.Database);

    private static UsageEvent Tokens(string tenant, string id, DateOnly day, decimal quantity, string model = "llama") =>
        new(id, tenant, Meters.OutputTokens, quantity, new DateTimeOffset(day, new TimeOnly(12, 0), TimeSpan.Zero), model);

    private static UsageEvent GpuSeconds(string tenant, string id, DateOnly day, decimal quantity) =>
        new(id, tenant, Meters.GpuSeconds, quantity, new DateTimeOffset(day, new TimeOnly(12, 0), TimeSpan.Zero), GpuType: "h100");

    private static DateOnly October(int day) => new(2026, 10, day);

    private static DateOnly November(int day) => new(2026, 11, day);

    private static RateCardVersionAdded Version(int number, DateOnly from, decimal tokenPrice, decimal gpuPrice) =>
        new(number, "USD", from, [new RateCardPrice(Meters.OutputTokens, "llama", null, tokenPrice), new RateCardPrice(Meters.GpuSeconds, null, "h100", gpuPrice)],
            AfterOctober, "test");

    private async Task<IReadOnlyList<InvoiceTotal>> TotalsAsync(string month)
    {
        await using var session = Billing.Store.QuerySession();
        return await MonthInvoices.TotalsAsync(session, Billing.Database, month, null, CancellationToken.None);
    }

    private async Task<IReadOnlyList<InvoiceTotal>> ExactAsync(string month)
    {
        await using var session = Billing.Store.QuerySession();
        return await MonthInvoices.ExactTotalsAsync(session, month, await session.LoadAsync<RateCardHistory>(RateCardHistory.StreamKey), CancellationToken.None);
    }

    private static string Shown(IEnumerable<InvoiceTotal> totals) => string.Join("; ", totals.Select(t => $"{t.Tenant} {t.Status} {Money.Format(t.Total)}"));

    private async Task FinalizeAsync(string tenant, string month, bool allowUnpriced = false)
    {
        await using var write = await new BillingWriter(Billing.Store, Billing.Database).BeginTenantMonthsAsync([tenant], CancellationToken.None);
        var outcome = TenantMonth.Finalize(tenant, month, await write.MonthAsync(tenant, month, CancellationToken.None), new FinalizeRequest(false, allowUnpriced),
            await write.Session.LoadAsync<RateCardHistory>(RateCardHistory.StreamKey), await write.FinalizedFromAsync([(tenant, BillingPeriod.Next(month))], CancellationToken.None),
            AfterOctober, "admin");
        var finalized = Assert.IsType<FinalizeOutcome.Finalized>(outcome);
        write.Append(finalized.Invoice);
        if (finalized.Carried is { } carried) write.Append(carried);
        await write.CommitAsync(CancellationToken.None);
    }

    private async Task VoidAsync(string tenant, string usageId)
    {
        await using var write = await new BillingWriter(Billing.Store, Billing.Database).BeginTenantMonthsAsync([tenant], CancellationToken.None);
        var recording = await write.RecordingOfAsync(tenant, usageId, CancellationToken.None);
        var outcome = TenantMonth.Void(new VoidUsageCommand(tenant, usageId, "test", "admin"), recording, false,
            await write.FinalizedFromAsync([(tenant, recording!.Batch.Month)], CancellationToken.None), AfterOctober);
        write.Append(Assert.IsType<VoidOutcome.Voided>(outcome).Event);
        await write.CommitAsync(CancellationToken.None);
    }

    /// <summary>
    /// acme: October finalized with unpriced usage carried on, then late usage and a void of October, both adjustments on
    /// November; beta: a void in its open October; gamma: a total that rounds; delta: usage voided to nothing.
    /// </summary>
    private async Task SeedAsync()
    {
        await Recorder.RecordAsync([
            Tokens("acme", "a1", October(3), 1_500_000), GpuSeconds("acme", "a2", October(5), 7_200), Tokens("acme", "a3", October(6), 700, "unpriced-model"),
            Tokens("beta", "b1", October(2), 333_333), Tokens("beta", "b2", October(19), 666_667), Tokens("beta", "b3", October(10), 100_000),
            Tokens("gamma", "g1", October(31), 1_000_001),
            Tokens("delta", "d1", October(7), 500_000),
        ], CancellationToken.None);
        await VoidAsync("beta", "b3");
        await VoidAsync("delta", "d1");
        await FinalizeAsync("acme", "2026-10", allowUnpriced: true);
        await Recorder.RecordAsync([Tokens("acme", "a4", October(25), 1_000_000), Tokens("acme", "a5", November(3), 200_000), Tokens("beta", "b4", November(4), 1_000_000)],
            CancellationToken.None);
        await VoidAsync("acme", "a1");
        await Billing.CatchUpAsync();
    }

    [Fact]
    public async Task Totals_from_the_rollup_and_the_marks_equal_every_invoice_priced_and_the_usage_is_priced_while_spend_is_behind()
    {
        await Billing.AppendAsync(RateCardHistory.StreamKey, Version(1, new DateOnly(2026, 9, 1), 2.40m, 3.96m));
        await SeedAsync();

        // acme's October froze 3.60 + 7.92; its November bills 0.48 of its own, the late 2.40 and the void's −3.60.
        const string october = "acme finalized 11.52; beta draft 2.40; delta draft 0.00; gamma draft 2.40";
        const string november = "acme draft -0.72; beta draft 2.40";
        Assert.Equal(october, Shown(await ExactAsync("2026-10")));
        Assert.Equal(november, Shown(await ExactAsync("2026-11")));
        Assert.Equal(october, Shown(await TotalsAsync("2026-10")));
        Assert.Equal(november, Shown(await TotalsAsync("2026-11")));

        // Spend by tenant and month over the two whole months shows the same totals.
        var spend = await new SpendQuery(Billing.Store, Billing.Database).RunAsync(
            new SpendRequest(October(1), November(30), SpendGroups.Tenant, SpendGranularity.Month), CancellationToken.None);
        Assert.Equal("acme 2026-10 11.52; acme 2026-11 -0.72; beta 2026-10 2.40; beta 2026-11 2.40; delta 2026-10 0.00; gamma 2026-10 2.40",
            string.Join("; ", spend.Series.SelectMany(s => s.Points.Select(p => $"{s.Key} {p.Date} {p.Cost}")).Order(StringComparer.Ordinal)));

        // Usage the spend projection has not counted yet: the totals are priced from the usage, so they hold it.
        long counted;
        await using (var command = Billing.Database.DataSource.CreateCommand($"select max(seq_id) from {Schema}.mt_events"))
            counted = (long)(await command.ExecuteScalarAsync())!;
        await Recorder.RecordAsync([Tokens("gamma", "g2", October(30), 1_000_000)], CancellationToken.None);
        const string withLateGamma = "acme finalized 11.52; beta draft 2.40; delta draft 0.00; gamma draft 4.80";
        Assert.Equal(withLateGamma, Shown(await ExactAsync("2026-10")));
        Assert.Equal(withLateGamma, Shown(await TotalsAsync("2026-10")));
        // A spend read that asks only for what was recorded before it (it waited for the projection to count that) takes
        // the rollup as counted, like its other points: without the usage recorded after.
        await using (var session = Billing.Store.QuerySession())
            Assert.Equal(october, Shown(await MonthInvoices.TotalsAsync(session, Billing.Database, "2026-10", null, CancellationToken.None, recordedThrough: counted)));
        await Billing.CatchUpAsync();
        Assert.Equal(withLateGamma, Shown(await TotalsAsync("2026-10")));

        // Caught up, only the marked invoice that holds adjustments (acme's November) is read from its usage: without the
        // others' usage documents the totals are the same.
        await using (var session = Billing.Store.LightweightSession())
        {
            session.DeleteWhere<MonthlyUsage>(u => u.Id != BillingPeriod.UsageStream("acme", "2026-11"));
            await session.SaveChangesAsync();
        }
        Assert.Equal(withLateGamma, Shown(await TotalsAsync("2026-10")));
        Assert.Equal(november, Shown(await TotalsAsync("2026-11")));
    }

    [Fact]
    public async Task A_version_taking_effect_mid_month_prices_the_month_from_its_usage()
    {
        await Billing.AppendAsync(RateCardHistory.StreamKey, Version(1, new DateOnly(2026, 9, 1), 2.40m, 3.96m), Version(2, October(15), 2.00m, 3.60m));
        await SeedAsync();

        // beta: 333,333 × 2.40 + 666,667 × 2.00 = 0.80 + 1.33; gamma at 2.00; acme froze 3.60 + 7.92 (all before the 15th).
        const string october = "acme finalized 11.52; beta draft 2.13; delta draft 0.00; gamma draft 2.00";
        Assert.Equal(october, Shown(await ExactAsync("2026-10")));
        Assert.Equal(october, Shown(await TotalsAsync("2026-10")));
        // The rollup's one quantity per item cannot give two prices: October does not read it.
        Assert.True(await Billing.ExecuteAsync($"delete from {Schema}.{SpendTables.TenantMonthly} where month = '2026-10-01'") > 0);
        Assert.Equal(october, Shown(await TotalsAsync("2026-10")));
        // November has one version throughout: the rollup and the marks give it.
        Assert.Equal(Shown(await ExactAsync("2026-11")), Shown(await TotalsAsync("2026-11")));
    }

    private Task<List<string>> MarksAsync() => Billing.RowsAsync(InvoiceMarks.Table);

    [Fact]
    public async Task The_marks_are_written_with_the_events_and_a_migrate_that_creates_them_fills_them_from_the_invoices()
    {
        await Billing.AppendAsync(RateCardHistory.StreamKey, Version(1, new DateOnly(2026, 9, 1), 2.40m, 3.96m));
        await SeedAsync();
        var marks = await MarksAsync();
        Assert.Equal(["(2026-10,acme,11.52,f)", "(2026-11,acme,,t)"], marks);

        await Billing.ExecuteAsync($"drop table {Schema}.{InvoiceMarks.Table}");
        using var migrated = DocumentStore.For(o => BillingStore.Configure(o, TestInfrastructure.Postgres, Schema));
        await migrated.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
        Assert.Equal(marks, await MarksAsync());
    }
}
