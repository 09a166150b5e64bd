using System.Globalization;

namespace Metering.Forecasting;

/// <summary>How the explanation writes an amount: dollars for Billing, tokens or GPU-seconds for Budgets.</summary>
public sealed record ForecastUnit(Func<decimal, string> Format)
{
    /// <summary>US dollars rounded half-even to cents: "$2,143.20".</summary>
    public static ForecastUnit Dollars { get; } = new(amount =>
    {
        var cents = Math.Round(amount, 2, MidpointRounding.ToEven);
        return (cents < 0 ? "-$" : "$") + Math.Abs(cents).ToString("#,##0.00", CultureInfo.InvariantCulture);
    });

    /// <summary>A quantity with its unit name, rounded half-even: "2,143 tokens".</summary>
    public static ForecastUnit Named(string unit, int decimals = 0) => new(amount =>
        Math.Round(amount, decimals, MidpointRounding.ToEven).ToString("N" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture) + " " + unit);
}
