using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Metering.Emitter;

namespace Metering.LoadGenerator;

/// <summary>Where the simulated fleet sends its usage. A sink returns once the batch is confirmed.</summary>
public interface IUsageSink : IAsyncDisposable
{
    Task SendAsync(IReadOnlyList<UsageEvent> batch, CancellationToken ct);
}

/// <summary>
/// <c>POST /v1/usage</c> on Ingest. A request that fails or times out is sent again, unchanged: the events keep their
/// ids, so whatever of the first attempt reached Kafka is not counted twice.
/// </summary>
public sealed class HttpSink(Uri ingest, string token) : IUsageSink
{
    private readonly HttpClient _http = new(new SocketsHttpHandler { MaxConnectionsPerServer = 64 })
    {
        BaseAddress = ingest,
        Timeout = TimeSpan.FromSeconds(30),
        DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Bearer", token) },
    };

    public long Retries;

    public async Task SendAsync(IReadOnlyList<UsageEvent> batch, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                using var response = await _http.PostAsJsonAsync("/v1/usage", new { events = batch }, MeteringJson.Options, ct);
                if (response.StatusCode == HttpStatusCode.Accepted) return;
                if ((int)response.StatusCode is >= 400 and < 500 and not 408 and not 429)
                    throw new InvalidOperationException($"Ingest refused a batch: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
            {
                // Ingest unreachable or slow: send the same batch again.
            }
            Interlocked.Increment(ref Retries);
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(2000, 50 * attempt)), ct);
        }
    }

    public ValueTask DisposeAsync()
    {
        _http.Dispose();
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
