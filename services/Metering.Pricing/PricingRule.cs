using Metering.Contracts.Billing;

namespace Metering.Pricing;

/// <summary>
/// PRODUCT §4: usage is worth quantity × price ÷ unit size (<see cref="PriceUnits"/>: 1,000,000 tokens, 3,600
/// GPU-seconds), exact in decimal; an amount is that rounded half-even to cents. Where the rounding happens (per invoice
/// line, per spend point, never for a budget) is the caller's rule.
/// </summary>
public static class PricingRule
{
    /// <summary>The exact worth of <paramref name="quantity"/> of a meter at <paramref name="price"/>, unrounded.</summary>
    public static decimal Value(string meter, decimal quantity, decimal price) => quantity * price / PriceUnits.Of(meter);

    /// <summary>An exact sum of money rounded half-even to cents.</summary>
    public static decimal ToCents(decimal exact) => Math.Round(exact, 2, MidpointRounding.ToEven);

    /// <summary>An invoice line's amount: round_half_even(quantity × price ÷ unit size, 2).</summary>
    public static decimal Amount(string meter, decimal quantity, decimal price) => ToCents(Value(meter, quantity, price));
}
