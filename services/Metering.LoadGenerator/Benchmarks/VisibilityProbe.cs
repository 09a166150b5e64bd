using System.Collections.Concurrent;
using Metering.Client;
using Metering.Contracts.Budgets;

namespace Metering.LoadGenerator.Benchmarks;

/// <summary>
/// Measures the time from emitting an event to seeing it in Budgets. While the load runs, it sends one probe event
/// (1 input token for a tenant of its own) at a steady interval through the same sink as the load, and polls that
/// tenant's budget: when the month's used reaches k, probes 1..k are visible, and each one's latency is now minus
/// the moment it was handed to the sink.
/// </summary>
public sealed class VisibilityProbe(IUsageSink sink, Uri budgets, string token, string tenant) : IDisposable
{
    private readonly MeteringClient _client = MeteringClient.Create(o =>
    {
        (o.Budgets, o.Token) = (budgets, token);
        // The poll is the retry loop: a slow or failed read is followed by the next one, not repeated.
        o.Resilience = MeteringResilience.RepeatNothing;
    });
    private readonly ConcurrentDictionary<long, long> _sentAt = new();
    private readonly List<TimeSpan> _latencies = [];
    private long _sent;
    private long _seen;

    public sealed record Result(IReadOnlyList<TimeSpan> Latencies, long Sent)
    {
        public long Missing => Sent - Latencies.Count;
        public TimeSpan Percentile(double p) => Benchmarks.Percentile.Of(Latencies.Order().ToList(), p, none: TimeSpan.Zero);
    }

    /// <summary>Probes until <paramref name="stopSending"/> fires, then waits up to <paramref name="patience"/> for the last ones.</summary>
    public async Task<Result> RunAsync(TimeSpan interval, CancellationToken stopSending, TimeSpan patience)
    {
        using var stopPolling = new CancellationTokenSource();
        var polling = PollAsync(stopPolling.Token);
        using (var ticker = new PeriodicTimer(interval))
        {
            try
            {
                while (await ticker.WaitForNextTickAsync(stopSending))
                {
                    var k = _sent + 1;
                    _sentAt[k] = Stopwatch.GetTimestamp();
                    await sink.SendAsync([new UsageEvent($"probe-{k}", tenant, Meters.InputTokens, 1, DateTimeOffset.UtcNow, Model: "probe")], CancellationToken.None);
                    _sent = k;
                }
            }
            catch (OperationCanceledException) when (stopSending.IsCancellationRequested)
            {
            }
        }
        var deadline = Stopwatch.GetTimestamp() + (long)(patience.TotalSeconds * Stopwatch.Frequency);
        while (Volatile.Read(ref _seen) < _sent && Stopwatch.GetTimestamp() < deadline) await Task.Delay(20);
        await stopPolling.CancelAsync();
        await polling;
        lock (_latencies) return new Result([.. _latencies], _sent);
    }

    private async Task PollAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                var budget = await _client.Budgets.GetBudgetAsync(tenant, ct);
                var now = Stopwatch.GetTimestamp();
                var used = (long)(budget.Usage.Where(u => u.Meter == Meters.InputTokens && u.Period == Periods.Month).Sum(u => u.Used));
                for (var k = _seen + 1; k <= used; k++)
                    if (_sentAt.TryGetValue(k, out var sentAt))
                        lock (_latencies) _latencies.Add(Stopwatch.GetElapsedTime(sentAt, now));
                Volatile.Write(ref _seen, Math.Max(_seen, used));
                await Task.Delay(5, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is HttpRequestException or MeteringApiException)
            {
                // Budgets busy or a silo moving: poll again.
            }
        }
    }

    public void Dispose() => _client.Dispose();
}
