namespace Metering.Billing.TenantMonths;

/// <summary>An event of one tenant-month: it is appended to that month's usage stream (<see cref="BillingPeriod.UsageStream"/>).</summary>
public interface ITenantMonthEvent
{
    string Tenant { get; }
    string Month { get; }
}
