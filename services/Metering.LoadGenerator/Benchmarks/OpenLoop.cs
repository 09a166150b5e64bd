using System.Runtime.InteropServices;

namespace Metering.LoadGenerator.Benchmarks;

/// <summary>
/// Requests sent on a fixed schedule, whatever the answers take, from a thread of its own that sleeps until each one
/// is due (<c>clock_nanosleep</c>, not the thread pool's timers, which a busy machine delays by milliseconds) and
/// starts it there. Each request's lateness (sent minus due) is kept beside its latency (answered minus sent): a client
/// that cannot keep its schedule measures nothing, and the lateness says so.
/// </summary>
public static class OpenLoop
{
    /// <summary>A latency figure is void when the client's own p99 lateness is above this.</summary>
    public static readonly TimeSpan LatenessLimit = TimeSpan.FromMilliseconds(1);

    /// <param name="StartMs">How long the schedule thread took to start each request (the client's synchronous part).</param>
    /// <param name="Failures">Per request that failed, why: "not allowed" or the exception's type and message.</param>
    public sealed record Result(double[] LatencyMs, double[] LatenessMs, double[] StartMs, string?[] Failures, bool Prioritised)
    {
        /// <summary>From request <paramref name="from"/> on (the warm-up before it is left out).</summary>
        public Figures From(long from) => new(
            LatencyMs[(int)from..].Order().ToList(), LatenessMs[(int)from..].Order().ToList(), StartMs[(int)from..].Order().ToList(),
            Failures[(int)from..].Where(f => f is not null).GroupBy(f => f!, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal));
    }

    public sealed record Figures(IReadOnlyList<double> LatencyMs, IReadOnlyList<double> LatenessMs, IReadOnlyList<double> StartMs, IReadOnlyDictionary<string, int> FailureReasons)
    {
        public int Failures => FailureReasons.Values.Sum();
        public double Latency(double p) => Percentile.Of(LatencyMs, p);
        public double Lateness(double p) => Percentile.Of(LatenessMs, p);
        public double Start(double p) => Percentile.Of(StartMs, p);
        public bool Void => Lateness(99) > LatenessLimit.TotalMilliseconds;

        /// <summary>The commonest reasons of failure, with their counts.</summary>
        public string Reasons(int top = 3) =>
            string.Join("; ", FailureReasons.OrderByDescending(r => r.Value).Take(top).Select(r => $"{r.Value} × {r.Key}"));
    }

    /// <summary>Sends request 0..<paramref name="total"/>-1 at <paramref name="perSecond"/>; <paramref name="send"/> answers whether it succeeded.</summary>
    public static async Task<Result> RunAsync(long total, double perSecond, Func<long, Task<bool>> send)
    {
        var latency = new double[total];
        var lateness = new double[total];
        var start = new double[total];
        var failures = new string?[total];
        var requests = new Task[total];
        var prioritised = false;
        var scheduled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        async Task MeasureAsync(long i, long sent)
        {
            try
            {
                if (!await send(i)) failures[i] = "not allowed";
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or InvalidOperationException)
            {
                // No answer (a refused connection, a timeout): a failure of this request, counted, not the run's end.
                var cause = ex.InnerException ?? ex;
                failures[i] = $"{ex.GetType().Name} ({cause.GetType().Name})";
            }
            latency[i] = Stopwatch.GetElapsedTime(sent).TotalMilliseconds;
        }

        var thread = new Thread(() =>
        {
            try
            {
                prioritised = TryRaisePriority();
                var begin = Stopwatch.GetTimestamp();
                for (long i = 0; i < total; i++)
                {
                    var due = begin + (long)(i / perSecond * Stopwatch.Frequency);
                    SleepUntil(due);
                    var sent = Stopwatch.GetTimestamp();
                    lateness[i] = Stopwatch.GetElapsedTime(due, sent).TotalMilliseconds;
                    requests[i] = MeasureAsync(i, sent);
                    start[i] = Stopwatch.GetElapsedTime(sent).TotalMilliseconds;
                }
                scheduled.SetResult();
            }
            catch (Exception ex)
            {
                scheduled.SetException(ex);
            }
        }) { IsBackground = true, Name = "open-loop schedule" };
        thread.Start();
        await scheduled.Task;
        await Task.WhenAll(requests);
        return new Result(latency, lateness, start, failures, prioritised);
    }

    private static void SleepUntil(long due)
    {
        for (var now = Stopwatch.GetTimestamp(); now < due; now = Stopwatch.GetTimestamp())
        {
            var remaining = Stopwatch.GetElapsedTime(now, due);
            if (OperatingSystem.IsLinux())
            {
                var nanoseconds = (long)(remaining.TotalMilliseconds * 1e6);
                var request = new TimeSpec(nanoseconds / 1_000_000_000, nanoseconds % 1_000_000_000);
                _ = ClockNanosleep(MonotonicClock, 0, ref request, IntPtr.Zero);
            }
            else
            {
                Thread.Sleep(remaining);
            }
        }
    }

    /// <summary>
    /// The schedule thread at nice -10 (allowed to root): it only sleeps and starts requests, a small share of a core,
    /// and on a machine where every core is busy it would otherwise wait behind the system it measures.
    /// </summary>
    private static bool TryRaisePriority()
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            return SetPriority(ProcessPriority, GetThreadId(), -10) == 0;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    private const int MonotonicClock = 1; // CLOCK_MONOTONIC, as Stopwatch reads it
    private const int ProcessPriority = 0; // PRIO_PROCESS: with a thread id, that thread alone

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec(long seconds, long nanoseconds)
    {
        public long Seconds = seconds;
        public long Nanoseconds = nanoseconds;
    }

    [DllImport("libc", EntryPoint = "clock_nanosleep")]
    private static extern int ClockNanosleep(int clock, int flags, ref TimeSpec request, IntPtr remaining);

    [DllImport("libc", EntryPoint = "gettid")]
    private static extern int GetThreadId();

    [DllImport("libc", EntryPoint = "setpriority")]
    private static extern int SetPriority(int which, int who, int priority);
}
