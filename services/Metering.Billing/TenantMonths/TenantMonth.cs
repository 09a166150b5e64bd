using Metering.Billing.Invoices;

namespace Metering.Billing.TenantMonths;

/// <summary>
/// The decisions of a tenant-month, pure: given what is recorded (the finalized months, the month's usage, the rate
/// cards) and <c>now</c>, they return the events to append and what to answer. <see cref="BillingWriter"/> loads the
/// state and appends the events; usage recording, finalize and void are thin edges over the two.
/// </summary>
public static class TenantMonth
{
    /// <summary>
    /// Usage of one tenant and month, not recorded before: on its month's stream, or, once that month is finalized, on
    /// the next open month's as an adjustment priced as the month was frozen (usage never changes a frozen invoice).
    /// </summary>
    public static UsageBatchRecorded Record(string tenant, string month, IReadOnlyList<RecordedUsage> usage, FinalizedMonths finalized)
    {
        var target = finalized.FirstOpenFrom(tenant, month);
        return target == month
            ? UsageBatchRecorded.Of(tenant, month, usage)
            : UsageBatchRecorded.Of(tenant, target, usage, month, finalized.Of(tenant, month)!.RateCardVersions);
    }

    /// <summary>
    /// Freezes the month's invoice as priced now, unless it has no usage, is already finalized, has not ended (UTC) without
    /// <see cref="FinalizeRequest.Force"/>, or holds unpriced usage without <see cref="FinalizeRequest.AllowUnpriced"/>.
    /// What it leaves unpriced is carried to the next open month, to be billed there once a version prices its day.
    /// </summary>
    /// <param name="finalized">The months from the one after <paramref name="month"/> through the first open one.</param>
    public static FinalizeOutcome Finalize(string tenant, string month, MonthlyUsage? usage, FinalizeRequest request, RateCardHistory? rateCards,
        FinalizedMonths finalized, DateTimeOffset now, string by)
    {
        if (usage is null) return new FinalizeOutcome.NoUsage();
        if (usage.Finalized is { } earlier) return new FinalizeOutcome.AlreadyFinalized(earlier.At);
        BillingPeriod.TryParse(month, out var start);
        if (!request.Force && now < new DateTimeOffset(start.AddMonths(1), TimeOnly.MinValue, TimeSpan.Zero)) return new FinalizeOutcome.NotEnded();

        var (lines, total) = InvoicePricing.Price(usage, rateCards);
        var unpriced = lines.Where(l => l.UnitPrice is null).ToList();
        if (unpriced.Count > 0 && !request.AllowUnpriced) return new FinalizeOutcome.Unpriced(unpriced);

        var frozen = new InvoiceFinalized(tenant, month, lines, Money.Format(total), now, by, rateCards?.Versions.Count ?? 0);
        var days = InvoicePricing.UnpricedDays(usage, rateCards)
            .Select(d => d.AdjustmentFor is null ? d with { AdjustmentFor = month, FrozenRateCards = frozen.RateCardVersions } : d)
            .ToList();
        var carried = days.Count == 0 ? null : new UnpricedUsageCarried(tenant, finalized.FirstOpenFrom(tenant, BillingPeriod.Next(month)), month, days);
        return new FinalizeOutcome.Finalized(frozen, carried);
    }

    /// <summary>
    /// Voids a recorded usage: a compensating event on the stream that counts it or, once that month is finalized, on the
    /// next open month's as a correction that refunds what was charged; and the message that gives it back to budgets.
    /// </summary>
    /// <param name="found">The usage and the event that recorded it, or null when Billing never recorded it.</param>
    /// <param name="finalized">The months from the recording's through the first open one.</param>
    public static VoidOutcome Void(VoidUsageCommand command, UsageRecording? found, bool alreadyVoided, FinalizedMonths finalized, DateTimeOffset now)
    {
        if (found is not (var recording, var usage) || usage.Id != command.UsageId) return new VoidOutcome.NotFound();
        if (alreadyVoided) return new VoidOutcome.AlreadyVoided();

        var month = recording.Month;
        var adjustmentFor = recording.AdjustmentFor;
        // Refund what was charged: a late usage was priced as its month was frozen, usage of its own month as that froze.
        var frozenRateCards = recording.FrozenRateCards;
        while (finalized.Of(command.Tenant, month) is { } frozen)
        {
            // The month the usage belongs to, however many finalized months the correction passes.
            if (adjustmentFor is null)
            {
                adjustmentFor = month;
                frozenRateCards = frozen.RateCardVersions;
            }
            month = BillingPeriod.Next(month);
        }

        var voided = new UsageVoidRecorded(command.Tenant, month, usage, adjustmentFor, command.Reason, now, command.By, adjustmentFor is null ? null : frozenRateCards);
        var view = new VoidView(command.Tenant, command.UsageId, usage.Meter, usage.Quantity, recording.AdjustmentFor ?? recording.Month,
            month == recording.Month ? null : month, command.Reason, now);
        var message = new UsageVoided(command.Tenant, command.UsageId, usage.Meter, usage.Quantity, DateOnly.FromDateTime(usage.Timestamp.UtcDateTime),
            usage.Model, usage.GpuType, command.Reason, now);
        return new VoidOutcome.Voided(voided, view, message);
    }
}

public abstract record FinalizeOutcome
{
    /// <param name="Carried">What the frozen invoice left unpriced, for the next open month; null when everything was priced.</param>
    public sealed record Finalized(InvoiceFinalized Invoice, UnpricedUsageCarried? Carried) : FinalizeOutcome;
    public sealed record NoUsage : FinalizeOutcome;
    public sealed record AlreadyFinalized(DateTimeOffset At) : FinalizeOutcome;
    public sealed record NotEnded : FinalizeOutcome;
    public sealed record Unpriced(IReadOnlyList<InvoiceLineView> Lines) : FinalizeOutcome;
}

/// <summary>A recorded usage and the batch event that recorded it (whose month, adjustment and frozen prices it has).</summary>
public sealed record UsageRecording(UsageBatchRecorded Batch, RecordedUsage Usage);

/// <summary>An admin's void of one usage event.</summary>
public sealed record VoidUsageCommand(string Tenant, string UsageId, string Reason, string By);

public abstract record VoidOutcome
{
    public sealed record Voided(UsageVoidRecorded Event, VoidView View, UsageVoided Message) : VoidOutcome;
    public sealed record NotFound : VoidOutcome;
    public sealed record AlreadyVoided : VoidOutcome;
}
