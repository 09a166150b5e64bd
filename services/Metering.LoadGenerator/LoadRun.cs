using System.Threading.Channels;

namespace Metering.LoadGenerator;

public sealed record LoadOptions
{
    public double EventsPerSecond { get; init; } = 1000;
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>Stop after this many events even if the duration has not passed (0: no limit).</summary>
    public long MaxEvents { get; init; }
    public int Tenants { get; init; } = 20;
    public string TenantPrefix { get; init; } = "tenant-";
    public int Seed { get; init; } = 42;
    public int BatchSize { get; init; } = 500;
    public int Senders { get; init; } = 8;
    public string RunId { get; init; } = Guid.NewGuid().ToString("N")[..12];
}

/// <summary>
/// Generates the fleet's usage at a steady rate and sends it through a sink, counting what was confirmed. Cancelling
/// <c>ct</c> stops the generating; what was generated is still sent, so the report stays exact.
/// </summary>
public static class LoadRun
{
    /// <summary>How often a run writes a progress line to its <c>progress</c> writer.</summary>
    public static readonly TimeSpan ProgressEvery = TimeSpan.FromSeconds(2);

    public static async Task<SentReport> RunAsync(LoadOptions options, IUsageSink sink, CancellationToken ct = default, TextWriter? progress = null)
    {
        var profile = new FleetProfile(options.Tenants, options.TenantPrefix, options.Seed);
        var report = new SentReport();
        var queue = Channel.CreateBounded<UsageEvent>(new BoundedChannelOptions(options.BatchSize * options.Senders * 4) { SingleWriter = true });
        var clock = Stopwatch.StartNew();

        var senders = Enumerable.Range(0, options.Senders).Select(_ => Task.Run(async () =>
        {
            var batch = new List<UsageEvent>(options.BatchSize);
            while (await queue.Reader.WaitToReadAsync(CancellationToken.None))
            {
                while (batch.Count < options.BatchSize && queue.Reader.TryRead(out var e)) batch.Add(e);
                if (batch.Count == 0) continue; // another sender took what woke this one
                await sink.SendAsync(batch, CancellationToken.None);
                report.Confirmed(batch);
                batch = new List<UsageEvent>(options.BatchSize);
            }
        })).ToArray();

        long generated = 0, request = 0;
        var nextProgress = ProgressEvery;
        using var ticker = new PeriodicTimer(TimeSpan.FromMilliseconds(10));
        while (clock.Elapsed < options.Duration && (options.MaxEvents == 0 || generated < options.MaxEvents) && !ct.IsCancellationRequested)
        {
            var due = (long)(options.EventsPerSecond * clock.Elapsed.TotalSeconds);
            while (generated < due && (options.MaxEvents == 0 || generated < options.MaxEvents))
            {
                foreach (var e in profile.Request($"{options.RunId}-{request++}", DateTimeOffset.UtcNow))
                {
                    if (options.MaxEvents > 0 && generated == options.MaxEvents) break;
                    await queue.Writer.WriteAsync(e, CancellationToken.None);
                    generated++;
                }
            }
            if (progress is not null && clock.Elapsed >= nextProgress)
            {
                progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{clock.Elapsed.TotalSeconds:F0} s of {options.Duration.TotalSeconds:F0} s: {generated:N0} events generated, {report.Events:N0} confirmed"));
                nextProgress += ProgressEvery;
            }
            await ticker.WaitForNextTickAsync(CancellationToken.None);
        }
        queue.Writer.Complete();
        await Task.WhenAll(senders);
        report.Elapsed = clock.Elapsed;
        return report;
    }
}
