namespace Metering.Billing.TenantMonths;

/// <summary>The billing month (<c>YYYY-MM</c>, UTC) and the stream that holds a tenant's usage of it.</summary>
public static class BillingPeriod
{
    public static string Of(DateTimeOffset timestamp) => timestamp.UtcDateTime.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Streams are short: one per tenant and month, so none grows without bound or becomes a hot spot.</summary>
    public static string UsageStream(string tenant, string month) => $"usage:{tenant}:{month}";

    public static string Next(string month) =>
        DateOnly.ParseExact(month + "-01", "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture).AddMonths(1)
            .ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>What a period <see cref="TryParse"/> refuses is answered with, under its field's name.</summary>
    public const string Rule = "must be a month as YYYY-MM";

    /// <summary>A month as <c>YYYY-MM</c> of the years 2000 to 9998 (so that the month after it always exists).</summary>
    public static bool TryParse(string period, out DateOnly start)
    {
        start = default;
        return period.Length == 7
               && DateOnly.TryParseExact(period + "-01", "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture,
                   System.Globalization.DateTimeStyles.None, out start)
               && start.Year is >= 2000 and <= 9998;
    }
}
