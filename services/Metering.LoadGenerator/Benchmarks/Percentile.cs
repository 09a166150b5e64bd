namespace Metering.LoadGenerator.Benchmarks;

/// <summary>Nearest-rank percentiles of measured values, as every benchmark of the load generator prints them.</summary>
public static class Percentile
{
    /// <summary>The <paramref name="p"/>-th percentile (0–100) of values sorted ascending; NaN when there are none.</summary>
    public static double Of(IReadOnlyList<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];
}
