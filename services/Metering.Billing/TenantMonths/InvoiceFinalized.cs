namespace Metering.Billing.TenantMonths;

/// <summary>
/// The invoice of a month, frozen: its lines and total as they were when an admin finalized it, priced with the first
/// <see cref="RateCardVersions"/> versions of the rate card (null on invoices frozen before it was recorded).
/// </summary>
public sealed record InvoiceFinalized(string Tenant, string Month, IReadOnlyList<Metering.Contracts.Billing.InvoiceLineView> Lines, string Total,
    DateTimeOffset At, string By, int? RateCardVersions = null) : ITenantMonthEvent;

/// <summary>
/// Appended by a finalize with <c>allow_unpriced</c> to the next open month of the tenant: the frozen month's days that no
/// version priced, each with its <see cref="DailyUsage.AdjustmentFor"/> (the month it belongs to) and the rate-card versions
/// it was frozen with. The frozen invoice keeps them unbilled; this month bills them once a version prices their day.
/// </summary>
public sealed record UnpricedUsageCarried(string Tenant, string Month, string From, IReadOnlyList<DailyUsage> Days) : ITenantMonthEvent;
