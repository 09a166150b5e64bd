namespace Metering.LoadGenerator.Benchmarks;

/// <summary>Nearest-rank percentiles of measured values, as every benchmark of the load generator prints them.</summary>
public static class Percentile
{
    /// <summary>The <paramref name="p"/>-th percentile (0–100) of values sorted ascending; NaN when there are none.</summary>
    public static double Of(IReadOnlyList<double> sorted, double p) => Of(sorted, p, none: double.NaN);

    /// <summary>The <paramref name="p"/>-th percentile (0–100) of values sorted ascending; <paramref name="none"/> when there are none.</summary>
    public static T Of<T>(IReadOnlyList<T> sorted, double p, T none) =>
        sorted.Count == 0 ? none : sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];
}
