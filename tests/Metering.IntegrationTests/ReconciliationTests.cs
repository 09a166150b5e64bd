using Marten;
using Metering.Billing;
using Metering.Billing.Chargeback.Capacity;
using Metering.Billing.Chargeback.Reconciliation;
using Metering.Billing.Invoicing;
using Metering.Billing.Pricing;
using Metering.Billing.Recording;
using Metering.Contracts.Billing;
using Metering.Contracts.Usage;
using Npgsql;

namespace Metering.IntegrationTests;

/// <summary>The reconciliation on a real event store, checking what it must be independent of.</summary>
public sealed class ReconciliationTests : IAsyncLifetime
{
    private readonly DocumentStore _store = DocumentStore.For(o => BillingStore.Configure(o, TestInfrastructure.Postgres, "reconciliation_tests_" + Guid.NewGuid().ToString("N")[..8]));
    private readonly NpgsqlDataSource _dataSource = NpgsqlDataSource.Create(TestInfrastructure.Postgres);
    private static readonly DateTimeOffset At = new(2026, 10, 3, 12, 0, 0, TimeSpan.Zero);
    private const string Tenant = "acme", Month = "2026-10", November = "2026-11";

    public Task InitializeAsync() => _store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();

    public async Task DisposeAsync()
    {
        await _store.Advanced.Clean.CompletelyRemoveAllAsync();
        _store.Dispose();
        await _dataSource.DisposeAsync();
    }

    private async Task Append(string stream, params object[] events)
    {
        await using var session = _store.LightweightSession();
        session.Events.Append(stream, events);
        await session.SaveChangesAsync();
    }

    private static RateCardVersionAdded Version(int number, DateOnly from, params RateCardPrice[] prices) => new(number, "USD", from, prices, At, "test");

    private async Task<ReconciliationView> ReconcileAsync(GetReconciliation.InvoicePricer pricer)
    {
        using (var daemon = await _store.BuildProjectionDaemonAsync())
        {
            await daemon.StartAllAsync();
            await daemon.WaitForNonStaleData(TimeSpan.FromSeconds(30));
            await daemon.StopAllAsync();
        }
        return await GetReconciliation.ReconcileAsync(Month, _store, new BillingDatabase(_dataSource), pricer, CancellationToken.None);
    }

    [Fact]
    public async Task A_bug_in_the_invoice_pricing_shows_as_a_difference()
    {
        await Append(RateCardHistory.StreamKey,
            Version(1, new DateOnly(2026, 10, 1), new RateCardPrice(Meters.OutputTokens, "llama", null, 2.40m)),
            Version(2, new DateOnly(2026, 10, 15), new RateCardPrice(Meters.OutputTokens, "llama", null, 2.00m)));
        await Append(BillingPeriod.UsageStream(Tenant, Month), new UsageBatchRecorded(Tenant, Month,
            [new RecordedUsage("a", Meters.OutputTokens, 1_004_166, At, "llama", null, null), new RecordedUsage("b", Meters.OutputTokens, 1_000_000, At.AddDays(20), "llama", null, null)]));

        var right = await ReconcileAsync(InvoicePricing.Price);
        Assert.True(right.Balanced, string.Join("; ", right.Differences));
        Assert.Equal(("4.41", "4.41"), (right.UsagePriced, right.Invoices));

        // The injected bug prices every day with the newest version instead of the one in effect that day.
        var wrong = await ReconcileAsync((usage, cards) => InvoicePricing.Price(usage,
            cards is null ? null : cards with { Versions = [.. cards.Versions.Select(v => v with { EffectiveFrom = DateOnly.MinValue })] }));

        Assert.False(wrong.Balanced);
        Assert.Equal(("4.41", "4.01"), (wrong.UsagePriced, wrong.Invoices));
        Assert.Contains(new ReconciliationDifference("usage_priced vs invoice", Tenant, "4.41", "4.01"), wrong.Differences);
    }

    [Fact]
    public async Task Metered_gpu_hours_count_usage_after_finalize_and_more_than_provisioned_is_a_difference()
    {
        var october = BillingPeriod.UsageStream(Tenant, Month);
        await Append(october, new UsageBatchRecorded(Tenant, Month, [new RecordedUsage("g1", Meters.GpuSeconds, 3_600, At, null, "h100", null)]));
        await Append(october, new InvoiceFinalized(Tenant, Month, [new InvoiceLineView(Meters.GpuSeconds, null, "h100", 3_600, null, null, null)], "0.00", At, "admin"));
        // An October GPU hour that arrived after finalize: November's stream, for October.
        await Append(BillingPeriod.UsageStream(Tenant, November), new UsageBatchRecorded(Tenant, November,
            [new RecordedUsage("g2", Meters.GpuSeconds, 3_600, At, null, "h100", null)], AdjustmentFor: Month));
        await Append(CapacityCostRecorded.StreamKey(Month), new CapacityCostRecorded(Month, "chargeback", [new CapacityItem("h100", 1.5m, 30m)], At, "admin"));

        var reconciliation = await ReconcileAsync(InvoicePricing.Price);

        Assert.Equal([new ReconciliationDifference("provisioned h100 hours vs metered (more used than provisioned)", null, "1.5", "2")],
            reconciliation.Differences);
        Assert.Equal(("0.00", "0.00"), (reconciliation.Capacity!.IdleCost, reconciliation.Capacity.Posted));
    }
}
