namespace Metering.Forecasting;

/// <summary>Decimal arithmetic .NET leaves out, so no amount passes through a double.</summary>
internal static class DecimalMath
{
    public static decimal Sqrt(decimal value)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value);
        if (value == 0) return 0;
        // Newton's iteration from a guess at or above the root decreases monotonically onto it.
        var x = value > 1 ? value : 1m;
        while (true)
        {
            var next = (x + value / x) / 2;
            if (next >= x) return x;
            x = next;
        }
    }

    public static decimal Median(IReadOnlyList<decimal> values)
    {
        var sorted = values.Order().ToArray();
        var middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}
