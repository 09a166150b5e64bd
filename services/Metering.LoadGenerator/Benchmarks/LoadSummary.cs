namespace Metering.LoadGenerator.Benchmarks;

/// <summary>The load generator's own figures in a <see cref="BenchmarkSummary"/>.</summary>
public static class LoadSummary
{
    public static void AddRequests(this BenchmarkSummary summary, string prefix, RequestSizes requests)
    {
        summary.Add($"{prefix} events per request mean", requests.Mean, "events", "F1");
        summary.Add($"{prefix} events per request p50", requests.Percentile(50), "events");
        summary.Add($"{prefix} events per request p95", requests.Percentile(95), "events");
        summary.Add($"{prefix} requests", requests.PerSecond, "/s", "F1");
    }
}
