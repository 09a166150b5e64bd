using Marten.Events.Aggregation;

namespace Metering.Billing.TenantMonths;

/// <summary>
/// A tenant's metered quantities of one month, per (meter, model or GPU type), and the same per UTC day — rate-card
/// versions take effect on a day, so days are what pricing needs — including late usage of finalized months
/// (<see cref="DailyUsage.AdjustmentFor"/>), which <see cref="Lines"/> leaves out. Id is the usage stream key.
/// </summary>
public sealed record MonthlyUsage(string Id, string Tenant, string Month, IReadOnlyList<MonthlyUsageLine> Lines)
{
    public IReadOnlyList<DailyUsage> Days { get; init; } = [];

    /// <summary>Set once the invoice is finalized: the invoice as it was frozen.</summary>
    public InvoiceFinalized? Finalized { get; init; }

    public MonthlyUsage Apply(InvoiceFinalized finalized) => this with { Finalized = finalized };

    /// <summary>A voided usage counts negatively where its compensation landed (a correction when that is a later month).</summary>
    public MonthlyUsage Apply(UsageVoidRecorded voided) => Apply(new UsageBatchRecorded(voided.Tenant, voided.Month,
        [voided.Usage with { Quantity = -voided.Usage.Quantity }], voided.AdjustmentFor, voided.FrozenRateCards));

    /// <summary>Usage a finalized month left unpriced, carried here as adjustments: priced once a version prices its day.</summary>
    public MonthlyUsage Apply(UnpricedUsageCarried carried)
    {
        var days = Days.ToList();
        foreach (var c in carried.Days)
        {
            var d = days.FindIndex(x => x with { Quantity = 0 } == c with { Quantity = 0 });
            if (d < 0) days.Add(c);
            else days[d] = days[d] with { Quantity = days[d].Quantity + c.Quantity };
        }
        return this with { Days = days };
    }

    public MonthlyUsage Apply(UsageBatchRecorded recorded)
    {
        var lines = Lines.ToList();
        var days = Days.ToList();
        foreach (var e in recorded.Sums())
        {
            var (model, gpuType) = Meters.ItemOf(e.Meter, e.Model, e.GpuType);
            if (recorded.AdjustmentFor is null)
            {
                var index = lines.FindIndex(l => l.Meter == e.Meter && l.Model == model && l.GpuType == gpuType);
                if (index < 0) lines.Add(new MonthlyUsageLine(e.Meter, model, gpuType, e.Quantity));
                else lines[index] = lines[index] with { Quantity = lines[index].Quantity + e.Quantity };
            }

            var day = e.Day;
            var d = days.FindIndex(x => x.Day == day && x.Meter == e.Meter && x.Model == model && x.GpuType == gpuType && x.AdjustmentFor == recorded.AdjustmentFor
                && x.FrozenRateCards == recorded.FrozenRateCards);
            if (d < 0) days.Add(new DailyUsage(e.Meter, model, gpuType, day, e.Quantity, recorded.AdjustmentFor, recorded.FrozenRateCards));
            else days[d] = days[d] with { Quantity = days[d].Quantity + e.Quantity };
        }
        return this with { Lines = lines, Days = days };
    }
}

public sealed record MonthlyUsageLine(string Meter, string? Model, string? GpuType, decimal Quantity);

/// <param name="FrozenRateCards">Of an adjustment: the rate-card versions the adjusted month's invoice was frozen with.</param>
public sealed record DailyUsage(string Meter, string? Model, string? GpuType, DateOnly Day, decimal Quantity, string? AdjustmentFor = null,
    int? FrozenRateCards = null);

/// <summary>Inline: the quantities are updated in the same transaction that records the usage.</summary>
public sealed class MonthlyUsageProjection : SingleStreamProjection<MonthlyUsage, string>
{
    public static MonthlyUsage Create(UsageBatchRecorded e) =>
        new MonthlyUsage(BillingPeriod.UsageStream(e.Tenant, e.Month), e.Tenant, e.Month, []).Apply(e);

    public static MonthlyUsage Apply(UsageBatchRecorded e, MonthlyUsage current) => current.Apply(e);

    public static MonthlyUsage Apply(InvoiceFinalized e, MonthlyUsage current) => current.Apply(e);

    public static MonthlyUsage Create(UnpricedUsageCarried e) =>
        new MonthlyUsage(BillingPeriod.UsageStream(e.Tenant, e.Month), e.Tenant, e.Month, []).Apply(e);

    public static MonthlyUsage Apply(UnpricedUsageCarried e, MonthlyUsage current) => current.Apply(e);

    public static MonthlyUsage Create(UsageVoidRecorded e) =>
        new MonthlyUsage(BillingPeriod.UsageStream(e.Tenant, e.Month), e.Tenant, e.Month, []).Apply(e);

    public static MonthlyUsage Apply(UsageVoidRecorded e, MonthlyUsage current) => current.Apply(e);
}
