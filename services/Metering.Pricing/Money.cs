using System.Globalization;

namespace Metering.Pricing;

/// <summary>Money as the API shows it: in <see cref="Currency"/>, written as a decimal string with two decimals ("12.34").</summary>
public static class Money
{
    /// <summary>The one currency of v1: of every rate card, invoice, statement and spend answer.</summary>
    public const string Currency = "USD";

    /// <summary>
    /// An amount in cents as its JSON string. An exact amount is rounded with <see cref="PricingRule.ToCents"/> first:
    /// the format alone would round it away from zero.
    /// </summary>
    public static string Format(decimal amount) => amount.ToString("0.00", CultureInfo.InvariantCulture);
}
