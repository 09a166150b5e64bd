using Metering.Billing.Chargeback.Reconciliation;
using Metering.Billing.Rebuilds;
using Metering.Billing.Spend;

namespace Metering.IntegrationTests;

/// <summary>
/// Batch events of both shapes on one stream: as stored before they held totals (every usage in the event) and as the
/// recorder stores them now (totals in the event, its usage beside it). Every reader and a rebuild read both alike.
/// </summary>
public sealed class BillingBatchShapesTests() : BillingStorageTests("batch_shapes_tests")
{
    private const string Tenant = "acme", Month = "2026-10";
    private static readonly DateTimeOffset At = new(2026, 10, 3, 12, 0, 0, TimeSpan.Zero);
    private readonly string _stream = BillingPeriod.UsageStream(Tenant, Month);

    private async Task VoidAsync(string usageId)
    {
        await using var write = await new BillingWriter(Billing.Store, Billing.Database).BeginTenantMonthsAsync([Tenant], CancellationToken.None);
        var recording = await write.RecordingOfAsync(Tenant, usageId, CancellationToken.None);
        var outcome = TenantMonth.Void(new VoidUsageCommand(Tenant, usageId, "test", "admin"), recording, false,
            await write.FinalizedFromAsync([(Tenant, recording!.Batch.Month)], CancellationToken.None), At.AddDays(10));
        write.Append(Assert.IsType<VoidOutcome.Voided>(outcome).Event);
        await write.CommitAsync(CancellationToken.None);
    }

    private async Task<List<string>> DataAsync(string sql)
    {
        var rows = new List<string>();
        await using var command = Billing.Database.DataSource.CreateCommand(sql);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) rows.Add(reader.GetString(0));
        return rows;
    }

    /// <summary>What the projections hold: invoices, ledger postings and balances, spend (without Marten's modification times).</summary>
    private async Task<List<string>> ProjectedAsync() =>
    [
        .. await DataAsync($"select id || data::text from {Billing.Name}.mt_doc_monthlyusage order by id"),
        .. await DataAsync($"select id || data::text from {Billing.Name}.mt_doc_ledgerposting order by id"),
        .. await DataAsync($"select id || data::text from {Billing.Name}.mt_doc_ledgerbalance order by id"),
        .. await DataAsync($"select t::text from {Billing.Name}.{SpendTables.Daily} t order by 1"),
        .. await DataAsync($"select t::text from {Billing.Name}.{SpendTables.TenantMonthly} t order by 1"),
    ];

    [Fact]
    public async Task Batches_stored_with_every_usage_and_with_totals_read_alike_in_every_reader_and_after_a_rebuild()
    {
        await Billing.AppendAsync(RateCardHistory.StreamKey, new RateCardVersionAdded(1, "USD", new DateOnly(2026, 10, 1),
            [new RateCardPrice(Meters.OutputTokens, "llama", null, 2.40m), new RateCardPrice(Meters.GpuSeconds, null, "h100", 3.00m)], At, "test"));
        // The old shape: the usage in the event, its receipts naming it (as that release wrote them), nothing beside it.
        await Billing.AppendAsync(_stream, new UsageBatchRecorded(Tenant, Month,
            [new RecordedUsage("old-a", Meters.OutputTokens, 1_004_166, At, "llama", null, "chat", "search"),
             new RecordedUsage("old-b", Meters.GpuSeconds, 1_800.5m, At.AddDays(1), null, "h100", null)]));
        // The compact shape, through the recorder; a timestamp with 100 ns ticks stays exact.
        var exact = At.AddDays(2).AddTicks(1_234_567);
        Assert.Equal(3, await new UsageRecorder(Billing.Store, Billing.Database).RecordAsync([
            new UsageEvent("new-c", Tenant, Meters.OutputTokens, 2_000_000, exact, "llama", Service: "chat", Attributes: new Dictionary<string, string> { ["feature"] = "search" }),
            new UsageEvent("new-d", Tenant, Meters.OutputTokens, 1_000_000, At, "llama"),
            new UsageEvent("new-e", Tenant, Meters.GpuSeconds, 3_600, At.AddDays(1), GpuType: "h100"),
        ], CancellationToken.None));
        var stored = await DataAsync($"select data::text from {Billing.Name}.mt_events where stream_id = '{_stream}' order by version");
        using (var compact = JsonDocument.Parse(stored[1]))
        {
            Assert.Equal(0, compact.RootElement.GetProperty("Usage").GetArrayLength());
            Assert.Equal(3, compact.RootElement.GetProperty("Totals").GetArrayLength());
            Assert.DoesNotContain("new-c", stored[1]);
        }

        await VoidAsync("old-a");
        await VoidAsync("new-c");

        // The invoice's usage: in recording order, each batch's usage in its order, voids as negative entries.
        var listed = await GetInvoiceUsage.ReadPageAsync(Billing.Database, Billing.Name, _stream, null, null, null, 0, 1000, CancellationToken.None);
        Assert.Equal([("old-a", 1_004_166m, At, "chat"), ("old-b", 1_800.5m, At.AddDays(1), null), ("new-c", 2_000_000m, exact, "chat"), ("new-d", 1_000_000m, At, null),
                ("new-e", 3_600m, At.AddDays(1), null), ("old-a", -1_004_166m, At, "chat"), ("new-c", -2_000_000m, exact, "chat")],
            listed.Select(u => (u.Id, u.Quantity, u.Timestamp, u.Service)));
        Assert.Equal(["old-b", "new-e"], (await GetInvoiceUsage.ReadPageAsync(Billing.Database, Billing.Name, _stream, Meters.GpuSeconds, null, "h100", 0, 1000,
            CancellationToken.None)).Select(u => u.Id));
        Assert.Equal(["new-d", "new-e"], (await GetInvoiceUsage.ReadPageAsync(Billing.Database, Billing.Name, _stream, null, null, null, 3, 2, CancellationToken.None))
            .Select(u => u.Id));

        // The void of compact usage took back the usage kept beside its batch, feature included.
        var voids = (await Billing.Store.QuerySession().Events.FetchStreamAsync(_stream)).Select(e => e.Data).OfType<UsageVoidRecorded>().ToList();
        Assert.Equal(new RecordedUsage("new-c", Meters.OutputTokens, 2_000_000, exact, "llama", null, "chat", "search"), voids[1].Usage);

        // Invoice: 1,000,000 tokens at 2.40 = 2.40; GPU 1,800.5 + 3,600 s at 3.00/h = 4.50 (4.500416… rounded).
        await using (var session = Billing.Store.QuerySession())
        {
            var invoice = InvoicePricing.Price((await session.LoadAsync<MonthlyUsage>(_stream))!, await session.LoadAsync<RateCardHistory>(RateCardHistory.StreamKey));
            Assert.Equal(6.90m, invoice.Total);
        }

        // Usage × rates, the ledger and the statements agree, and the counts count usage, not batches.
        await Billing.CatchUpAsync();
        var reconciled = await GetReconciliation.ReconcileAsync(Month, Billing.Store, Billing.Database, InvoicePricing.Price, CancellationToken.None);
        Assert.True(reconciled.Balanced, string.Join("; ", reconciled.Differences));
        Assert.Equal(("6.90", "6.90"), (reconciled.UsagePriced, reconciled.Invoices));
        Assert.Equal((5L, 2L), (reconciled.Counts.Accepted, reconciled.Counts.Voided));

        // Spend: per day and feature, voids taken back.
        Assert.Equal(["2026-10-03|search|0", "2026-10-03||1000000", "2026-10-04||5400.5", "2026-10-05|search|0"],
            await DataAsync($"select day || '|' || feature || '|' || quantity from {Billing.Name}.{SpendTables.Daily} order by day, feature desc"));

        var before = await ProjectedAsync();
        await ProjectionRebuild.RunAsync(Billing.Store, NullLogger.Instance, CancellationToken.None);
        Assert.Equal(before, await ProjectedAsync());
    }
}
