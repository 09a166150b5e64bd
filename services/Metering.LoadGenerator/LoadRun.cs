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
    /// <summary>Events per request: a batch is sent when it holds this many, or when its first event is <see cref="Linger"/> old.</summary>
    public int BatchSize { get; init; } = LoadRun.DefaultBatchSize;
    /// <summary>How long a batch's first event waits for the batch to fill, so that low rates still send (the generator sleeps at least 10 ms between wake-ups).</summary>
    public TimeSpan Linger { get; init; } = LoadRun.DefaultLinger;
    public int Senders { get; init; } = 8;
    public string RunId { get; init; } = Guid.NewGuid().ToString("N")[..12];
}

/// <summary>
/// Generates the fleet's usage at a steady rate and sends it through a sink in requests of
/// <see cref="LoadOptions.BatchSize"/> events (fewer when a batch lingered), counting what was confirmed. Cancelling
/// <c>ct</c> stops the generating; what was generated is still sent, so the report stays exact.
/// </summary>
public static class LoadRun
{
    /// <summary>How often a run writes a progress line to its <c>progress</c> writer.</summary>
    public static readonly TimeSpan ProgressEvery = TimeSpan.FromSeconds(2);

    /// <summary>What an inference service's emitter realistically puts in one request (100–500 are common).</summary>
    public const int DefaultBatchSize = 200;

    public static readonly TimeSpan DefaultLinger = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// The shortest sleep of the generator between its wake-ups. It sleeps until a batch is full or has lingered, not on
    /// a fixed tick: every wake-up costs CPU (the thread pool's threads spin before they sleep again), and the
    /// generator must cost a few µs per event.
    /// </summary>
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(10);

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    public static async Task<SentReport> RunAsync(LoadOptions options, IUsageSink sink, CancellationToken ct = default, TextWriter? progress = null)
    {
        var profile = new FleetProfile(options.Tenants, options.TenantPrefix, options.Seed);
        var report = new SentReport();
        // Whole batches are queued; the generator waits when every sender is busy and four batches each are waiting.
        var queue = Channel.CreateBounded<List<UsageEvent>>(new BoundedChannelOptions(options.Senders * 4) { SingleWriter = true });
        var clock = Stopwatch.StartNew();
        // When n events are due (event n - 1 is); capped so that a very low rate still makes a finite sleep.
        TimeSpan DueAt(long n) => TimeSpan.FromSeconds(Math.Min(n / options.EventsPerSecond, TimeSpan.FromDays(1).TotalSeconds));

        var senders = Enumerable.Range(0, options.Senders).Select(_ => Task.Run(async () =>
        {
            await foreach (var batch in queue.Reader.ReadAllAsync(CancellationToken.None))
            {
                await sink.SendAsync(batch, CancellationToken.None);
                report.Confirmed(batch);
            }
        })).ToArray();

        var batch = new List<UsageEvent>(options.BatchSize);
        var batchStarted = TimeSpan.Zero;
        async ValueTask SendBatchAsync()
        {
            await queue.Writer.WriteAsync(batch, CancellationToken.None);
            batch = new List<UsageEvent>(options.BatchSize);
        }

        long generated = 0, request = 0;
        var nextProgress = ProgressEvery;
        while (clock.Elapsed < options.Duration && (options.MaxEvents == 0 || generated < options.MaxEvents) && !ct.IsCancellationRequested)
        {
            var due = (long)(options.EventsPerSecond * clock.Elapsed.TotalSeconds);
            while (generated < due && (options.MaxEvents == 0 || generated < options.MaxEvents))
            {
                foreach (var e in profile.Request($"{options.RunId}-{request++}", DateTimeOffset.UtcNow))
                {
                    if (options.MaxEvents > 0 && generated == options.MaxEvents) break;
                    // A batch lingers from when its first event was due, however late the generator woke for it.
                    if (batch.Count == 0) batchStarted = DueAt(generated + 1);
                    batch.Add(e);
                    generated++;
                    if (batch.Count == options.BatchSize) await SendBatchAsync();
                }
            }
            if (batch.Count > 0 && clock.Elapsed - batchStarted >= options.Linger) await SendBatchAsync();
            if (progress is not null && clock.Elapsed >= nextProgress)
            {
                progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{clock.Elapsed.TotalSeconds:F0} s of {options.Duration.TotalSeconds:F0} s: {generated:N0} events generated, {report.Events:N0} confirmed"));
                nextProgress += ProgressEvery;
            }
            // Asleep until there is something to do: the batch full, its linger over, a progress line or the end.
            var wake = Min(DueAt(generated + options.BatchSize - batch.Count), (batch.Count > 0 ? batchStarted : DueAt(generated + 1)) + options.Linger);
            wake = Min(Min(wake, options.Duration), progress is null ? wake : nextProgress);
            try
            {
                await Task.Delay(Max(wake - clock.Elapsed, Tick), ct);
            }
            catch (OperationCanceledException)
            {
            }
        }
        if (batch.Count > 0) await SendBatchAsync();
        queue.Writer.Complete();
        await Task.WhenAll(senders);
        report.Elapsed = clock.Elapsed;
        return report;
    }
}
