using System.Text;

namespace Metering.LoadGenerator.Benchmarks;

public sealed record IngestBenchmarkOptions
{
    public required IReadOnlyList<double> Rates { get; init; }
    public TimeSpan StepDuration { get; init; } = TimeSpan.FromSeconds(20);
    public int Tenants { get; init; } = 100;
    public required Func<IUsageSink> Sink { get; init; }
    public required string Via { get; init; }
    public required Uri Budgets { get; init; }
    public required string Token { get; init; }
    public required string Bootstrap { get; init; }
    public required string Postgres { get; init; }
    public string RawTopic { get; init; } = "metering.bench.raw";
    public int RawEvents { get; init; } = 200_000;
    public int BatchSize { get; init; } = LoadRun.DefaultBatchSize;
    public TimeSpan Linger { get; init; } = LoadRun.DefaultLinger;
    public SystemProcesses Processes { get; init; } = new();
    public string BudgetsGroup { get; init; } = "metering-budgets";
    public string BillingGroup { get; init; } = "metering-billing";
}

/// <summary>
/// <c>./metering bench ingest</c>: the whole local system at increasing rates. A step is kept up when the load
/// generator reached at least 95 % of the rate and neither consumer group's lag grew (lag bounded): lag is sampled
/// twice a second, it saw-tooths with each batch, so its troughs are compared: the lowest lag of the step's last
/// quarter against the lowest of its second quarter, and the growth between them must stay under 5 % of the rate.
/// The sustained rate is the highest step kept up; the ratio compares it with the raw ceiling measured in the same run.
/// </summary>
public static class IngestBenchmark
{
    private sealed record Step(double Target, double Sent, LagTrend Budgets, LagTrend Billing, TimeSpan Drain, VisibilityProbe.Result Visibility, RequestSizes Requests, CpuUse Cpu)
    {
        public bool KeptUp => Sent >= 0.95 * Target && Budgets.GrowthPerSecond <= 0.05 * Target && Billing.GrowthPerSecond <= 0.05 * Target;
    }

    /// <summary>The highest lag seen and how fast the lag's troughs grew, in events per second.</summary>
    private sealed record LagTrend(long Max, double GrowthPerSecond)
    {
        public static LagTrend Of(IReadOnlyList<(TimeSpan At, long Lag)> samples, TimeSpan duration)
        {
            if (samples.Count == 0) return new LagTrend(0, 0);
            var early = samples.Where(s => s.At >= duration / 4 && s.At < duration / 2).Select(s => s.Lag).DefaultIfEmpty(0).Min();
            var late = samples.Where(s => s.At >= duration * 3 / 4 && s.At <= duration).Select(s => s.Lag).DefaultIfEmpty(0).Min();
            return new LagTrend(samples.Max(s => s.Lag), (late - early) / (duration / 2).TotalSeconds);
        }

        public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Max,8} {GrowthPerSecond,7:+0;-0;0}/s");
    }

    /// <param name="progress">Where each step's load run writes its progress (every <see cref="LoadRun.ProgressEvery"/>), apart from the results.</param>
    public static async Task<int> RunAsync(IngestBenchmarkOptions options, TextWriter output, BenchmarkSummary summary, CancellationToken ct, TextWriter? progress = null)
    {
        var runId = DateTime.UtcNow.ToString("HHmmss", CultureInfo.InvariantCulture);
        void Say(string line) => output.WriteLine(line);
        Say($"ingest benchmark {DateTime.UtcNow:yyyy-MM-dd HH:mm:ss}Z on {Environment.ProcessorCount} cores: steps {string.Join(", ", options.Rates)} events/s, " +
            $"{options.StepDuration.TotalSeconds:F0} s each, {options.Tenants} tenants, via {options.Via}, {options.BatchSize} events per request " +
            $"(lingering at most {options.Linger.TotalMilliseconds:F0} ms)");

        var sample = new FleetProfile(options.Tenants, $"bench-{runId}-raw-", seed: 7);
        var rawEvents = Enumerable.Range(0, int.MaxValue).SelectMany(i => sample.Request($"raw-{i}", DateTimeOffset.UtcNow)).Take(options.RawEvents).ToList();
        var ceiling = await RawCeiling.MeasureAsync(options.Bootstrap, options.RawTopic, options.Postgres, rawEvents, options.BatchSize, ct);
        Say($"raw ceiling ({ceiling.Events} events): librdkafka produce+consume of usage batch v2 ({ceiling.Records} records, one per tenant per request of {options.BatchSize}) " +
            $"{ceiling.KafkaEventsPerSecond:F0} events/s (one v1 JSON record per event: {ceiling.KafkaV1EventsPerSecond:F0}), " +
            $"PostgreSQL COPY {ceiling.PostgresCopyEventsPerSecond:F0} events/s -> ceiling {ceiling.EventsPerSecond:F0} events/s");
        summary.Add("via", options.Via);
        summary.Add("batch", options.BatchSize, "events");
        summary.Add("ceiling kafka", ceiling.KafkaEventsPerSecond, "events/s");
        summary.Add("ceiling kafka v1 json", ceiling.KafkaV1EventsPerSecond, "events/s");
        summary.Add("ceiling postgres copy", ceiling.PostgresCopyEventsPerSecond, "events/s");
        summary.Add("ceiling", ceiling.EventsPerSecond, "events/s");

        using var lag = new ConsumerLag(options.Bootstrap, KafkaTopics.Usage.Name);
        // Warm-up, not measured: JIT, connection pools, consumer group assignments, Orleans grain activations.
        await RunStepAsync(options with { StepDuration = TimeSpan.FromSeconds(10) }, options.Rates[0], $"bench-{runId}-warmup-", lag, progress, ct);

        Say($"{"target/s",9} {"sent/s",9} {"budgets lag: max, growth",25} {"billing lag: max, growth",25} {"drain s",8} {"p50 ms",8} {"p99 ms",8} {"probes",7} {"kept up",8}");
        var steps = new List<Step>();
        foreach (var rate in options.Rates)
        {
            var step = await RunStepAsync(options, rate, $"bench-{runId}-{rate / 1000:F0}k-", lag, progress, ct);
            steps.Add(step);
            Say($"{step.Target,9:F0} {step.Sent,9:F0} {step.Budgets,25} {step.Billing,25} {step.Drain.TotalSeconds,8:F1} " +
                $"{step.Visibility.Percentile(50).TotalMilliseconds,8:F0} {step.Visibility.Percentile(99).TotalMilliseconds,8:F0} " +
                $"{step.Visibility.Latencies.Count,3}/{step.Visibility.Sent,-3} {(step.KeptUp ? "yes" : "no"),8}");
            Say($"  {step.Requests}");
            Say($"  {step.Cpu}");
            var name = $"step {step.Target:F0}";
            summary.Add($"{name} sent", step.Sent, "events/s");
            summary.Add($"{name} kept up", step.KeptUp ? "yes" : "no");
            summary.Add($"{name} visible p99", step.Visibility.Percentile(99).TotalMilliseconds, "ms");
            summary.Add($"{name} cpu total", step.Cpu.MicrosecondsPerEvent(step.Cpu.CountedTicks), "µs/event");
            if (!step.KeptUp) break;
        }

        var best = steps.Where(s => s.KeptUp).MaxBy(s => s.Sent);
        if (best is null)
        {
            Say("sustained: no step was kept up");
            summary.Add("sustained", 0, "events/s");
            return 1;
        }
        summary.Add("sustained", best.Sent, "events/s");
        summary.Add("ratio to the ceiling", best.Sent / ceiling.EventsPerSecond * 100, "%");
        summary.Add("sustained visible p50", best.Visibility.Percentile(50).TotalMilliseconds, "ms");
        summary.Add("sustained visible p99", best.Visibility.Percentile(99).TotalMilliseconds, "ms");
        summary.AddCpu("sustained", best.Cpu);
        summary.AddRequests("sustained", best.Requests);
        Say($"sustained end to end: {best.Sent:F0} events/s (Budgets' and Billing's lag bounded); emit -> visible in Budgets " +
            $"p50 {best.Visibility.Percentile(50).TotalMilliseconds:F0} ms, p99 {best.Visibility.Percentile(99).TotalMilliseconds:F0} ms");
        Say($"ratio to the raw ceiling: {best.Sent / ceiling.EventsPerSecond:P0} ({best.Sent:F0} / {ceiling.EventsPerSecond:F0})" +
            (steps[^1].KeptUp ? "; every step was kept up, so the real limit is higher: add larger --rates" : ""));
        return 0;
    }

    private static async Task<Step> RunStepAsync(IngestBenchmarkOptions options, double rate, string prefix, ConsumerLag lag, TextWriter? progress, CancellationToken ct)
    {
        await using var sink = options.Sink();
        await using var probeSink = options.Sink();
        using var probe = new VisibilityProbe(probeSink, options.Budgets, options.Token, prefix + "probe");
        using var stopProbing = new CancellationTokenSource();
        using var stopSampling = new CancellationTokenSource();
        var cpu = await CpuWindow.StartAsync(options.Processes.Groups(), ct);
        var clock = Stopwatch.StartNew();
        var samples = new List<(TimeSpan At, long Budgets, long Billing)>();
        var sampling = Task.Run(async () =>
        {
            using var ticker = new PeriodicTimer(TimeSpan.FromMilliseconds(500));
            try
            {
                while (await ticker.WaitForNextTickAsync(stopSampling.Token))
                    samples.Add((clock.Elapsed, lag.Of(options.BudgetsGroup), lag.Of(options.BillingGroup)));
            }
            catch (OperationCanceledException)
            {
            }
        });
        var probing = probe.RunAsync(TimeSpan.FromMilliseconds(100), stopProbing.Token, patience: TimeSpan.FromSeconds(60));

        var report = await LoadRun.RunAsync(new LoadOptions
        {
            EventsPerSecond = rate,
            Duration = options.StepDuration,
            Tenants = options.Tenants,
            TenantPrefix = prefix,
            RunId = prefix.TrimEnd('-'),
            Senders = 16,
            BatchSize = options.BatchSize,
            Linger = options.Linger,
        }, sink, ct, progress);
        await stopProbing.CancelAsync();
        await stopSampling.CancelAsync();
        await sampling;

        var drain = Stopwatch.StartNew();
        while (drain.Elapsed < TimeSpan.FromMinutes(2) && (lag.Of(options.BudgetsGroup) > 0 || lag.Of(options.BillingGroup) > 0))
            await Task.Delay(100, ct);
        // The window is the load and its drain: the whole work of the step's events, over the events sent.
        var used = await cpu.EndAsync(report.Events, ct);
        return new Step(rate, report.Events / report.Elapsed.TotalSeconds,
            LagTrend.Of(samples.Select(s => (s.At, s.Budgets)).ToList(), options.StepDuration),
            LagTrend.Of(samples.Select(s => (s.At, s.Billing)).ToList(), options.StepDuration),
            drain.Elapsed, await probing, report.Requests, used);
    }

    /// <summary>Writes to the console and keeps a copy for the results file.</summary>
    public sealed class Tee(TextWriter console) : TextWriter
    {
        public StringBuilder Copy { get; } = new();
        public override Encoding Encoding => console.Encoding;
        public override void WriteLine(string? value)
        {
            console.WriteLine(value);
            Copy.AppendLine(value);
        }
    }
}
