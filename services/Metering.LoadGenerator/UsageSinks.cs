using Metering.Client;
using Metering.Emitter;
using System.Buffers;
using System.Collections.Concurrent;
using System.Net.Http.Headers;

namespace Metering.LoadGenerator;

/// <summary>Where the simulated fleet sends its usage. A sink returns once the batch is confirmed.</summary>
public interface IUsageSink : IAsyncDisposable
{
    Task SendAsync(IReadOnlyList<UsageEvent> batch, CancellationToken ct);
}

/// <summary>
/// <c>POST /v1/usage</c> on Ingest. A request that fails or times out is sent again, unchanged, until Ingest accepts it:
/// the events keep their ids, so whatever of the first attempt reached Kafka is not counted twice. This loop is the
/// sink's whole retry policy (a load run must deliver every event, however long Ingest is away); 30 s per attempt.
/// The body is written straight into a buffer kept for the next request (<see cref="UsageRequestWriter"/>) and sent over
/// a plain <see cref="SocketsHttpHandler"/>, not <see cref="MeteringClient"/> (its resilience pipeline, which this loop
/// replaces anyway, and its serializer): the generator must cost a few µs of CPU per event, not tens (README, "Load
/// generator and ceiling").
/// </summary>
public sealed class HttpSink : IUsageSink
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");

    private readonly HttpClient _http;
    private readonly ConcurrentBag<ArrayBufferWriter<byte>> _buffers = [];

    public HttpSink(Uri ingest, string token)
    {
        _http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64, PooledConnectionLifetime = TimeSpan.FromMinutes(2) })
        {
            BaseAddress = ingest,
            Timeout = AttemptTimeout,
            DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Bearer", token) },
        };
    }

    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(30);

    public long Retries;

    public async Task SendAsync(IReadOnlyList<UsageEvent> batch, CancellationToken ct)
    {
        if (!_buffers.TryTake(out var body)) body = new ArrayBufferWriter<byte>(256 * batch.Count);
        try
        {
            body.ResetWrittenCount();
            UsageRequestWriter.Write(body, batch);
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/usage") { Content = new ReadOnlyMemoryContent(body.WrittenMemory) };
                    request.Content.Headers.ContentType = Json;
                    using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, ct);
                    if (response.IsSuccessStatusCode) return;
                    var failure = await MeteringApiException.ReadAsync(response, ct);
                    if ((int)response.StatusCode is >= 400 and < 500 and not 408 and not 429)
                        throw new InvalidOperationException($"Ingest refused a batch: {failure.Message}", failure);
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
                {
                }
                // Ingest unavailable (5xx, 408, 429), unreachable or slow: the same body again.
                Interlocked.Increment(ref Retries);
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(2000, 50 * attempt)), ct);
            }
        }
        finally
        {
            // A body grown by an unusually large batch is not kept.
            if (body.Capacity <= 4 * 1024 * 1024) _buffers.Add(body);
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
