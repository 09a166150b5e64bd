namespace Metering.Billing.TenantMonths;

/// <summary>The compensating event: the voided usage, on the stream whose invoice it corrects.</summary>
/// <param name="FrozenRateCards">Of a correction: the rate-card versions that priced the usage where it was charged.</param>
public sealed record UsageVoidRecorded(string Tenant, string Month, RecordedUsage Usage, string? AdjustmentFor, string Reason, DateTimeOffset At, string By,
    int? FrozenRateCards = null) : ITenantMonthEvent;

/// <summary>Marks a usage as voided; its id is the usage key, so a second void of the same usage cannot be stored.</summary>
public sealed record VoidReceipt(string Id)
{
    public static string IdOf(string tenant, string usageId) => $"{tenant}/{usageId}";
}
