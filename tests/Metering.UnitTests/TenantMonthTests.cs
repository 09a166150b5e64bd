using Metering.Billing.Invoices;
using Metering.Billing.RateCards;
using Metering.Billing.TenantMonths;

namespace Metering.UnitTests;

/// <summary>The tenant-month's decisions, without a host: state, rate cards and <c>now</c> in, events out.</summary>
public class TenantMonthTests
{
    private const string Tenant = "acme";
    private static readonly DateTimeOffset October = new(2026, 10, 10, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset AfterOctober = new(2026, 11, 2, 0, 0, 0, TimeSpan.Zero);

    private static readonly RateCardHistory RateCards = RateCardHistory.With(null,
        new RateCardVersionAdded(1, "USD", new DateOnly(2026, 1, 1), [new RateCardPrice(Meters.OutputTokens, "llama", null, 2.00m)], DateTimeOffset.UnixEpoch, "test"));

    private static RecordedUsage Tokens(string id, decimal quantity, string model = "llama", DateTimeOffset? at = null) =>
        new(id, Meters.OutputTokens, quantity, at ?? October, model, null, null);

    private static InvoiceFinalized Frozen(string month, int versions = 1) => new(Tenant, month, [], "0.00", October, "admin", versions);

    private static MonthlyUsage OctoberOf(params RecordedUsage[] usage) => MonthlyUsageProjection.Create(new UsageBatchRecorded(Tenant, "2026-10", usage));

    [Fact]
    public void Usage_of_an_open_month_is_recorded_on_its_own_stream()
    {
        var recorded = TenantMonth.Record(Tenant, "2026-10", [Tokens("a", 5)], FinalizedMonths.None);

        Assert.Equal((Tenant, "2026-10"), (recorded.Tenant, recorded.Month));
        Assert.Null(recorded.AdjustmentFor);
        // The event holds the totals; the usage itself is kept beside it.
        Assert.Empty(recorded.Usage);
        Assert.Equal([new UsageTotal(new DateOnly(2026, 10, 10), Meters.OutputTokens, "llama", null, null, null, 5, 1)], recorded.Sums());
    }

    [Fact]
    public void A_batch_sums_its_usage_per_day_and_grouping_whichever_shape_it_was_stored_in()
    {
        RecordedUsage[] usage = [Tokens("a", 5), Tokens("b", 7), Tokens("c", 1, "other"), Tokens("d", 2, at: October.AddDays(1))];
        var compact = TenantMonth.Record(Tenant, "2026-10", usage, FinalizedMonths.None);
        // As events were stored before they held totals: every usage, no totals.
        var old = new UsageBatchRecorded(Tenant, "2026-10", usage);

        UsageTotal[] expected =
        [
            new(new DateOnly(2026, 10, 10), Meters.OutputTokens, "llama", null, null, null, 12, 2),
            new(new DateOnly(2026, 10, 10), Meters.OutputTokens, "other", null, null, null, 1, 1),
            new(new DateOnly(2026, 10, 11), Meters.OutputTokens, "llama", null, null, null, 2, 1),
        ];
        Assert.Equal(expected, compact.Sums());
        Assert.Null(old.Totals);
        Assert.Equal(expected, old.Sums());
        Assert.Equal(OctoberOf(usage).Lines, MonthlyUsageProjection.Create(compact).Lines);
        Assert.Equal(OctoberOf(usage).Days, MonthlyUsageProjection.Create(compact).Days);
    }

    [Fact]
    public void Late_usage_of_a_finalized_month_lands_on_the_next_open_month_priced_as_its_month_was_frozen()
    {
        // October and November are finalized (October with 3 rate-card versions): the usage goes to December.
        var finalized = new FinalizedMonths([Frozen("2026-10", versions: 3), Frozen("2026-11", versions: 4)]);

        var recorded = TenantMonth.Record(Tenant, "2026-10", [Tokens("late", 5)], finalized);

        Assert.Equal("2026-12", recorded.Month);
        Assert.Equal("2026-10", recorded.AdjustmentFor);
        Assert.Equal(3, recorded.FrozenRateCards);
        // Another tenant's frozen months change nothing for this one.
        Assert.Equal("2026-10", TenantMonth.Record("other", "2026-10", [Tokens("x", 1)], finalized).Month);
    }

    [Fact]
    public void Finalize_freezes_the_priced_invoice_of_an_ended_month()
    {
        var outcome = TenantMonth.Finalize(Tenant, "2026-10", OctoberOf(Tokens("a", 1_000_000)), new FinalizeRequest(false, false), RateCards,
            FinalizedMonths.None, AfterOctober, "admin");

        var finalized = Assert.IsType<FinalizeOutcome.Finalized>(outcome);
        Assert.Equal("2.00", finalized.Invoice.Total);
        Assert.Equal((Tenant, "2026-10", AfterOctober, "admin", (int?)1),
            (finalized.Invoice.Tenant, finalized.Invoice.Month, finalized.Invoice.At, finalized.Invoice.By, finalized.Invoice.RateCardVersions));
        Assert.Null(finalized.Carried);
    }

    [Fact]
    public void Finalize_refuses_a_month_without_usage_one_already_finalized_and_one_that_has_not_ended_unless_forced()
    {
        var request = new FinalizeRequest(false, false);
        Assert.IsType<FinalizeOutcome.NoUsage>(TenantMonth.Finalize(Tenant, "2026-10", null, request, RateCards, FinalizedMonths.None, AfterOctober, "admin"));

        var frozen = OctoberOf(Tokens("a", 1)).Apply(Frozen("2026-10"));
        Assert.Equal(new FinalizeOutcome.AlreadyFinalized(October),
            TenantMonth.Finalize(Tenant, "2026-10", frozen, request, RateCards, FinalizedMonths.None, AfterOctober, "admin"));

        var lastSecond = new DateTimeOffset(2026, 10, 31, 23, 59, 59, TimeSpan.Zero);
        Assert.IsType<FinalizeOutcome.NotEnded>(TenantMonth.Finalize(Tenant, "2026-10", OctoberOf(Tokens("a", 1)), request, RateCards, FinalizedMonths.None, lastSecond, "admin"));
        Assert.IsType<FinalizeOutcome.Finalized>(TenantMonth.Finalize(Tenant, "2026-10", OctoberOf(Tokens("a", 1)), request with { Force = true }, RateCards,
            FinalizedMonths.None, lastSecond, "admin"));
    }

    [Fact]
    public void Finalize_refuses_unpriced_usage_unless_allowed_and_then_carries_it_to_the_next_open_month()
    {
        var usage = OctoberOf(Tokens("a", 1_000_000), Tokens("b", 7, model: "unpriced"));

        var refused = Assert.IsType<FinalizeOutcome.Unpriced>(TenantMonth.Finalize(Tenant, "2026-10", usage, new FinalizeRequest(false, false), RateCards,
            FinalizedMonths.None, AfterOctober, "admin"));
        Assert.Equal(("unpriced", 7m), (Assert.Single(refused.Lines).Model, refused.Lines[0].Quantity));

        // November is finalized already: the unpriced days go to December, marked as October's at the versions it froze with.
        var finalized = Assert.IsType<FinalizeOutcome.Finalized>(TenantMonth.Finalize(Tenant, "2026-10", usage, new FinalizeRequest(false, true), RateCards,
            new FinalizedMonths([Frozen("2026-11")]), AfterOctober, "admin"));
        Assert.Equal("2.00", finalized.Invoice.Total);
        var carried = Assert.IsType<UnpricedUsageCarried>(finalized.Carried);
        Assert.Equal(("2026-12", "2026-10"), (carried.Month, carried.From));
        Assert.Equal(new DailyUsage(Meters.OutputTokens, "unpriced", null, new DateOnly(2026, 10, 10), 7, "2026-10", 1), Assert.Single(carried.Days));
    }

    [Fact]
    public void A_void_of_usage_in_an_open_month_compensates_it_there_and_gives_it_back_to_budgets()
    {
        var recording = new UsageRecording(UsageBatchRecorded.Of(Tenant, "2026-10", [Tokens("a", 5), Tokens("b", 9)]), Tokens("b", 9));

        var voided = Assert.IsType<VoidOutcome.Voided>(TenantMonth.Void(new VoidUsageCommand(Tenant, "b", "mistake", "admin"), recording, false, FinalizedMonths.None, AfterOctober));

        Assert.Equal(new UsageVoidRecorded(Tenant, "2026-10", Tokens("b", 9), null, "mistake", AfterOctober, "admin"), voided.Event);
        Assert.Equal(("2026-10", (string?)null), (voided.View.Month, voided.View.CorrectionOn));
        Assert.Equal((Tenant, "b", 9m, new DateOnly(2026, 10, 10)), (voided.Message.Tenant, voided.Message.UsageId, voided.Message.Quantity, voided.Message.Day));
    }

    [Fact]
    public void A_void_of_usage_in_a_finalized_month_is_a_correction_on_the_next_open_month_at_the_frozen_prices()
    {
        var recording = new UsageRecording(UsageBatchRecorded.Of(Tenant, "2026-10", [Tokens("a", 5)]), Tokens("a", 5));
        var finalized = new FinalizedMonths([Frozen("2026-10", versions: 2), Frozen("2026-11", versions: 5)]);

        var voided = Assert.IsType<VoidOutcome.Voided>(TenantMonth.Void(new VoidUsageCommand(Tenant, "a", "mistake", "admin"), recording, false, finalized, AfterOctober));

        Assert.Equal(("2026-12", "2026-10", (int?)2), (voided.Event.Month, voided.Event.AdjustmentFor, voided.Event.FrozenRateCards));
        Assert.Equal(("2026-10", "2026-12"), (voided.View.Month, voided.View.CorrectionOn));
    }

    [Fact]
    public void A_void_of_late_usage_refunds_it_as_the_month_it_belongs_to_priced_it()
    {
        // Late usage of September, recorded on October at September's 1 version; October is finalized since.
        var recording = new UsageRecording(UsageBatchRecorded.Of(Tenant, "2026-10", [Tokens("late", 5)], "2026-09", 1), Tokens("late", 5));

        var voided = Assert.IsType<VoidOutcome.Voided>(TenantMonth.Void(new VoidUsageCommand(Tenant, "late", "mistake", "admin"), recording, false,
            new FinalizedMonths([Frozen("2026-10", versions: 4)]), AfterOctober));

        Assert.Equal(("2026-11", "2026-09", (int?)1), (voided.Event.Month, voided.Event.AdjustmentFor, voided.Event.FrozenRateCards));
        Assert.Equal(("2026-09", "2026-11"), (voided.View.Month, voided.View.CorrectionOn));
    }

    [Fact]
    public void A_void_of_unknown_usage_is_not_found_and_a_second_void_is_refused()
    {
        var recording = new UsageRecording(UsageBatchRecorded.Of(Tenant, "2026-10", [Tokens("a", 5)]), Tokens("a", 5));
        var command = new VoidUsageCommand(Tenant, "a", "mistake", "admin");

        Assert.IsType<VoidOutcome.NotFound>(TenantMonth.Void(command, null, false, FinalizedMonths.None, AfterOctober));
        Assert.IsType<VoidOutcome.NotFound>(TenantMonth.Void(command with { UsageId = "other" }, recording, false, FinalizedMonths.None, AfterOctober));
        Assert.IsType<VoidOutcome.AlreadyVoided>(TenantMonth.Void(command, recording, true, FinalizedMonths.None, AfterOctober));
    }
}
