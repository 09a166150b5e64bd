namespace Metering.Forecasting;

/// <summary>Decimal arithmetic .NET leaves out, so no amount passes through a double.</summary>
internal static class DecimalMath
{
    public static decimal Sqrt(decimal value)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value);
        if (value == 0) return 0;
        // Newton's iteration from a guess at or above the root decreases monotonically onto it. The guess, 10^k with
        // value / 100^k in [1, 100) times 10, is within 10× of the root, so a handful of steps reach it.
        var x = 10m;
        for (var scaled = value; scaled >= 100; scaled /= 100) x *= 10;
        for (var scaled = value; scaled < 1; scaled *= 100) x /= 10;
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
