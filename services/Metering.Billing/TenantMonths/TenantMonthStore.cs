using JasperFx.Events.Projections;

namespace Metering.Billing.TenantMonths;

/// <summary>
/// How the tenant-month is stored in Billing's Marten store: its events under fixed names, its inline projection
/// (<see cref="MonthlyUsage"/>, indexed by month), the void receipts, and where each usage was recorded (in its receipt).
/// </summary>
public static class TenantMonthStore
{
    /// <summary>
    /// The names the events are stored under (<c>mt_events.type</c>), which SQL readers (reconciliation, invoice usage)
    /// match on. Marten derives them from the class name alone, so they survived the move of the events to this folder;
    /// they are pinned here so that a rename cannot orphan the events already stored.
    /// </summary>
    public const string UsageBatchRecordedName = "usage_batch_recorded";
    public const string UsageVoidRecordedName = "usage_void_recorded";
    public const string InvoiceFinalizedName = "invoice_finalized";
    public const string UnpricedUsageCarriedName = "unpriced_usage_carried";

    public static void Register(StoreOptions opts, string schema)
    {
        // Receipts point at the event that recorded them by id; one index entry per batch event, not per usage.
        opts.Events.EnableUniqueIndexOnEventId = true;
        opts.Events.MapEventType<UsageBatchRecorded>(UsageBatchRecordedName);
        opts.Events.MapEventType<UsageVoidRecorded>(UsageVoidRecordedName);
        opts.Events.MapEventType<InvoiceFinalized>(InvoiceFinalizedName);
        opts.Events.MapEventType<UnpricedUsageCarried>(UnpricedUsageCarriedName);
        // Indexed by month: the invoice list and spend by tenant and month read every invoice of one month.
        opts.Schema.For<MonthlyUsage>().Identity(u => u.Id).Index(u => u.Month);
        opts.Projections.Add<MonthlyUsageProjection>(ProjectionLifecycle.Inline);
        opts.Schema.For<VoidReceipt>().Identity(r => r.Id);
    }
}
