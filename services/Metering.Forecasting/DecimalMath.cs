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

    /// <summary>√(Σ deviation² / degreesOfFreedom), scaled first so that token-sized amounts do not overflow when squared.</summary>
    public static decimal StandardDeviation(IReadOnlyList<decimal> deviations, int degreesOfFreedom)
    {
        var scale = deviations.Count == 0 ? 0 : deviations.Max(Math.Abs);
        if (scale == 0 || degreesOfFreedom <= 0) return 0;
        return scale * Sqrt(deviations.Sum(d => d / scale * (d / scale)) / degreesOfFreedom);
    }

    public static decimal Median(IReadOnlyList<decimal> values)
    {
        var sorted = values.Order().ToArray();
        var middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}
