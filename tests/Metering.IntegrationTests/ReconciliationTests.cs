using Metering.Billing.Chargeback.Capacity;
using Metering.Billing.Chargeback.Reconciliation;
using Metering.Billing.Chargeback.Statements;

namespace Metering.IntegrationTests;

/// <summary>The reconciliation on a real event store, checking what it must be independent of.</summary>
public sealed class ReconciliationTests() : BillingStorageTests("reconciliation_tests")
{
    private static readonly DateTimeOffset At = new(2026, 10, 3, 12, 0, 0, TimeSpan.Zero);
    private const string Tenant = "acme", Month = "2026-10", November = "2026-11";

    private static RateCardVersionAdded Version(int number, DateOnly from, params RateCardPrice[] prices) => new(number, "USD", from, prices, At, "test");

    private async Task<ReconciliationView> ReconcileAsync(GetReconciliation.InvoicePricer pricer, string month = Month)
    {
        await Billing.CatchUpAsync();
        return await GetReconciliation.ReconcileAsync(month, Billing.Store, Billing.Database, pricer, CancellationToken.None);
    }

    [Fact]
    public async Task A_bug_in_the_invoice_pricing_shows_as_a_difference()
    {
        await Billing.AppendAsync(RateCardHistory.StreamKey,
            Version(1, new DateOnly(2026, 10, 1), new RateCardPrice(Meters.OutputTokens, "llama", null, 2.40m)),
            Version(2, new DateOnly(2026, 10, 15), new RateCardPrice(Meters.OutputTokens, "llama", null, 2.00m)));
        await Billing.AppendAsync(BillingPeriod.UsageStream(Tenant, Month), new UsageBatchRecorded(Tenant, Month,
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
        await Billing.AppendAsync(october, new UsageBatchRecorded(Tenant, Month, [new RecordedUsage("g1", Meters.GpuSeconds, 3_600, At, null, "h100", null)]));
        await Billing.AppendAsync(october, new InvoiceFinalized(Tenant, Month, [new InvoiceLineView(Meters.GpuSeconds, null, "h100", 3_600, null, null, null)], "0.00", At, "admin"));
        // An October GPU hour that arrived after finalize: November's stream, for October.
        await Billing.AppendAsync(BillingPeriod.UsageStream(Tenant, November), new UsageBatchRecorded(Tenant, November,
            [new RecordedUsage("g2", Meters.GpuSeconds, 3_600, At, null, "h100", null)], AdjustmentFor: Month));
        await Billing.AppendAsync(CapacityCostRecorded.StreamKey(Month), new CapacityCostRecorded(Month, "chargeback", [new CapacityItem("h100", 1.5m, 30m)], At, "admin"));

        var reconciliation = await ReconcileAsync(InvoicePricing.Price);

        Assert.Equal([new ReconciliationDifference("provisioned h100 hours vs metered (more used than provisioned)", null, "1.5", "2")],
            reconciliation.Differences);
        Assert.Equal(("0.00", "0.00"), (reconciliation.Capacity!.IdleCost, reconciliation.Capacity.Posted));
    }
    private static UsageEvent Event(string tenant, string id, string meter, decimal quantity, DateTimeOffset at, string? model = null, string? gpu = null) =>
        new(id, tenant, meter, quantity, at, model, gpu);

    /// <summary>
    /// Usage a finalize froze unpriced (<c>allow_unpriced</c>) is carried to the next month and billed there once a later
    /// version prices its day; reconciliation's own "usage × rates" counts it the same way, so the next month balances.
    /// </summary>
    [Fact]
    public async Task Unpriced_usage_carried_by_a_finalize_and_priced_by_a_later_version_reconciles_on_the_month_that_bills_it()
    {
        await Billing.AppendAsync(RateCardHistory.StreamKey, Version(1, new DateOnly(2026, 10, 1), new RateCardPrice(Meters.OutputTokens, "llama", null, 2.40m)));
        var october = BillingPeriod.UsageStream(Tenant, Month);
        await Billing.AppendAsync(october, new UsageBatchRecorded(Tenant, Month,
            [new RecordedUsage("a", Meters.OutputTokens, 1_000_000, At, "llama", null, null), new RecordedUsage("b", Meters.OutputTokens, 2_000_000, At, "mystery", null, null)]));
        await Billing.FinalizeAsync(Tenant, Month, At);
        await Billing.AppendAsync(BillingPeriod.UsageStream(Tenant, November), new UnpricedUsageCarried(Tenant, November, Month,
            [new DailyUsage(Meters.OutputTokens, "mystery", null, DateOnly.FromDateTime(At.UtcDateTime), 2_000_000, Month, 1)]));
        await Billing.AppendAsync(RateCardHistory.StreamKey, new RateCardVersionAdded(2, "USD", new DateOnly(2026, 10, 1),
            [new RateCardPrice(Meters.OutputTokens, "llama", null, 2.40m), new RateCardPrice(Meters.OutputTokens, "mystery", null, 1.00m)], At.AddDays(40), "test"));

        var november = await ReconcileAsync(InvoicePricing.Price, November);

        Assert.True(november.Balanced, System.Text.Json.JsonSerializer.Serialize(november));
        Assert.Equal(("2.00", "2.00"), (november.UsagePriced, november.Invoices));
    }

    /// <summary>
    /// The closing scenario on the event store (the HTTP end-to-end version is not written): one month with a
    /// duplicate, unpriced usage, finalize, a team move, late usage and a void of the finalized month, idle capacity.
    /// Both the month and the month that carries its corrections reconcile with no difference.
    /// </summary>
    [Fact]
    public async Task A_month_mixing_late_usage_voids_a_team_move_idle_capacity_and_unpriced_usage_reconciles_to_zero()
    {
        const string Beta = "beta";
        await Billing.AppendAsync(RateCardHistory.StreamKey, Version(1, new DateOnly(2026, 10, 1),
            new RateCardPrice(Meters.OutputTokens, "llama", null, 2.00m), new RateCardPrice(Meters.GpuSeconds, null, "h100", 4.00m)));
        await Billing.AppendAsync(TeamDirectory.StreamKey,
            new TeamDefined("nlp", "NLP", "CC-1", null, At, "admin"), new TeamDefined("vision", "Vision", "CC-2", null, At, "admin"),
            new TenantTeamAssigned(Tenant, "nlp", At, "admin"), new TenantTeamAssigned(Beta, "vision", At, "admin"));
        var recorder = new UsageRecorder(Billing.Store, Billing.Database);
        var a = Event(Tenant, "a", Meters.OutputTokens, 1_000_000, At, model: "llama");
        await recorder.RecordAsync([a, Event(Tenant, "g1", Meters.GpuSeconds, 7_200, At.AddDays(1), gpu: "h100"),
            Event(Tenant, "u1", Meters.OutputTokens, 500, At.AddDays(2), model: "mystery"), Event(Beta, "b", Meters.OutputTokens, 500_000, At.AddDays(3), model: "llama")], default);
        await recorder.RecordAsync([a], default);
        await ReconcileAsync(InvoicePricing.Price);
        await Billing.FinalizeAsync(Tenant, Month, At);
        await Billing.FinalizeAsync(Beta, Month, At);
        await Billing.AppendAsync(TeamDirectory.StreamKey, new TenantTeamAssigned(Tenant, "vision", At, "admin"));
        await recorder.RecordAsync([Event(Tenant, "late1", Meters.OutputTokens, 1_000_000, At.AddDays(17), model: "llama"),
            Event(Tenant, "g2", Meters.GpuSeconds, 3_600, At.AddDays(18), gpu: "h100")], default);
        await Billing.AppendAsync(BillingPeriod.UsageStream(Tenant, November),
            new UsageVoidRecorded(Tenant, November, RecordedUsage.From(a), Month, "test", At, "admin"));
        await Billing.AppendAsync(CapacityCostRecorded.StreamKey(Month), new CapacityCostRecorded(Month, "chargeback", [new CapacityItem("h100", 10, 100m)], At, "admin"));

        var month = await ReconcileAsync(InvoicePricing.Price);

        Assert.True(month.Balanced, string.Join("; ", month.Differences));
        Assert.Equal(("11.00", "11.00", "11.00"), (month.UsagePriced, month.Invoices, month.Statements));
        Assert.Equal(new ReconciliationCounts(Accepted: 6, Duplicates: 1, Rejected: 0, DeadLettered: 0, Late: 2, Voided: 1, Refused: 0), month.Counts);
        // 3 of 10 GPU hours used (two charged to nlp before the move, one late to vision): 70.00 idle, all posted.
        Assert.Equal(("70.00", "70.00", "70.00"), (month.Capacity!.IdleCost, month.Capacity.Allocated, month.Capacity.Posted));
        Assert.Equal([(Tenant, "mystery", 500m)], month.Unpriced.Select(u => (u.Tenant, u.Model!, u.Quantity)));

        var november = await GetReconciliation.ReconcileAsync(November, Billing.Store, Billing.Database, InvoicePricing.Price, CancellationToken.None);
        Assert.True(november.Balanced, string.Join("; ", november.Differences));
        // Late llama 2.00 + late GPU hour 4.00 − the voided 2.00, all for October.
        Assert.Equal(("4.00", "4.00"), (november.UsagePriced, november.Invoices));
        var statement = await GetChargeback.LoadAsync(Billing.Store, November, scope: null, CancellationToken.None);
        Assert.Equal([("nlp", "-2.00"), ("vision", "6.00")],
            statement.ToView(ledgerCurrent: true).Teams.Where(t => t.Team is "nlp" or "vision").Select(t => (t.Team, t.Own.Corrections)));
    }
}
