using Metering.Client;
using Metering.Emitter;
using Microsoft.Extensions.Http.Resilience;

namespace Metering.LoadGenerator;

/// <summary>Where the simulated fleet sends its usage. A sink returns once the batch is confirmed.</summary>
public interface IUsageSink : IAsyncDisposable
{
    Task SendAsync(IReadOnlyList<UsageEvent> batch, CancellationToken ct);
}

/// <summary>
/// <c>POST /v1/usage</c> on Ingest through <see cref="IngestClient"/>. A request that fails or times out is sent again,
/// unchanged, until Ingest accepts it: the events keep their ids, so whatever of the first attempt reached Kafka is not
/// counted twice. This loop is the sink's whole retry policy (a load run must deliver every event, however long Ingest
/// is away), so its client repeats nothing itself and never opens its circuit; 30 s per attempt.
/// </summary>
public sealed class HttpSink(Uri ingest, string token) : IUsageSink
{
    private readonly MeteringClient _client = MeteringClient.Create(o =>
    {
        (o.Ingest, o.Token, o.MaxConnectionsPerServer) = (ingest, token, 64);
        o.Resilience = SendAgainHere;
    });

    public long Retries;

    public async Task SendAsync(IReadOnlyList<UsageEvent> batch, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await _client.Ingest.SendUsageAsync(batch, ct);
                return;
            }
            catch (MeteringApiException refused) when ((int)refused.StatusCode is >= 400 and < 500 and not 408 and not 429)
            {
                throw new InvalidOperationException($"Ingest refused a batch: {refused.Message}", refused);
            }
            catch (Exception ex) when (ex is MeteringApiException or HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
            {
                // Ingest unreachable, slow or unavailable: send the same batch again.
            }
            Interlocked.Increment(ref Retries);
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(2000, 50 * attempt)), ct);
        }
    }

    private static void SendAgainHere(HttpStandardResilienceOptions resilience)
    {
        MeteringResilience.RepeatNothing(resilience);
        resilience.AttemptTimeout.Timeout = resilience.TotalRequestTimeout.Timeout = TimeSpan.FromSeconds(30);
        resilience.CircuitBreaker.SamplingDuration = TimeSpan.FromSeconds(60);
    }

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>The emitter library, straight to Kafka; a batch is confirmed when Kafka acknowledged it.</summary>
public sealed class EmitterSink(UsageEmitterOptions options) : IUsageSink
{
    private readonly UsageEmitter _emitter = new(options);

    public async Task SendAsync(IReadOnlyList<UsageEvent> batch, CancellationToken ct)
    {
        foreach (var e in batch) await _emitter.EmitAsync(e, ct);
        await _emitter.FlushAsync(ct);
    }

    public ValueTask DisposeAsync() => _emitter.DisposeAsync();
}
