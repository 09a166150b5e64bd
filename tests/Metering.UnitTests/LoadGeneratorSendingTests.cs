using System.Net;
using System.Text;
using System.Text.Json;
using Metering.Contracts;
using Metering.Contracts.Usage;
using Metering.LoadGenerator;

namespace Metering.UnitTests;

/// <summary>
/// What the load generator puts on the wire, written by hand for its cost: the exact v1 body the serializer would write,
/// sent again unchanged until Ingest accepts it, and refused batches reported; and the totals it verifies against.
/// </summary>
public sealed class LoadGeneratorSendingTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 1, 20, 15, 30, 123, TimeSpan.Zero);

    private static readonly UsageEvent[] Events =
    [
        new("r-1-in", "tenant-001", Meters.InputTokens, 900, At, "llama-4-70b", null, "chat-api"),
        new("r-1-gpu", "tenant-001", Meters.GpuSeconds, 1.50m, At.AddTicks(7), "llama-4-70b", "h100", "chat-api"),
        new("r-2-out", "tenant-002", Meters.OutputTokens, 0.000001m, new DateTimeOffset(2026, 12, 1, 22, 0, 0, TimeSpan.FromHours(2))),
        new("r-3 \"quoted\" é <tag>", "tenant-003", "custom-meter", -0m, At, Attributes: new Dictionary<string, string> { ["region"] = "eu-west", ["key é"] = "a\nb" }),
    ];

    private static byte[] SerializerBody(IReadOnlyList<UsageEvent> events) => JsonSerializer.SerializeToUtf8Bytes(new UsageRequest(events), MeteringJson.Options);

    [Fact]
    public void The_request_body_is_byte_for_byte_what_the_serializer_writes()
    {
        var written = new System.Buffers.ArrayBufferWriter<byte>();

        UsageRequestWriter.Write(written, Events);

        Assert.Equal(Encoding.UTF8.GetString(SerializerBody(Events)), Encoding.UTF8.GetString(written.WrittenSpan));
    }

    [Fact]
    public async Task A_batch_Ingest_could_not_take_is_sent_again_unchanged_and_a_refused_one_is_reported()
    {
        using var ingest = new ScriptedIngest(HttpStatusCode.ServiceUnavailable, HttpStatusCode.Accepted, HttpStatusCode.BadRequest);
        await using var sink = new HttpSink(ingest.Url, "emitter-token");

        await sink.SendAsync(Events, CancellationToken.None);
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => sink.SendAsync(Events[..1], CancellationToken.None));

        Assert.Equal(1, sink.Retries);
        Assert.Contains("events[0].quantity", refused.Message);
        Assert.Equal(3, ingest.Requests.Count);
        Assert.All(ingest.Requests, r => Assert.Equal(("POST /v1/usage", "Bearer emitter-token", "application/json"), (r.Line, r.Authorization, r.ContentType)));
        var expected = Encoding.UTF8.GetString(SerializerBody(Events));
        Assert.Equal(expected, ingest.Requests[0].Body);
        Assert.Equal(expected, ingest.Requests[1].Body);
        Assert.Equal(Encoding.UTF8.GetString(SerializerBody(Events[..1])), ingest.Requests[2].Body);
    }

    [Fact]
    public async Task Totals_of_requests_confirmed_at_once_are_exact()
    {
        var report = new SentReport();
        var request = Enumerable.Range(0, 200).Select(i => Events[i % Events.Length] with { Id = $"e-{i}" }).ToArray();

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 50; i++) report.Confirmed(request);
        })));

        Assert.Equal(8 * 50 * 200, report.Events);
        Assert.Equal(8 * 50, report.Requests.Count);
        foreach (var total in report.Totals)
        {
            var ofPair = request.Where(e => e.Tenant == total.Tenant && e.Meter == total.Meter).ToArray();
            Assert.Equal(400L * ofPair.Length, total.Events);
            Assert.Equal(400 * ofPair.Sum(e => e.Quantity), total.Quantity);
        }
        Assert.Equal(Events.Length, report.Totals.Count);
    }

    /// <summary>An HTTP server on a free port answering each request with the next status of its script, recording what it got.</summary>
    private sealed class ScriptedIngest : IDisposable
    {
        public sealed record Received(string Line, string? Authorization, string? ContentType, string Body);

        private readonly HttpListener _listener = new();
        private readonly Task _serving;

        public ScriptedIngest(params HttpStatusCode[] script)
        {
            Url = new Uri($"http://127.0.0.1:{FreePorts.Next()}/");
            _listener.Prefixes.Add(Url.ToString());
            _listener.Start();
            _serving = Task.Run(async () =>
            {
                foreach (var status in script)
                {
                    var context = await _listener.GetContextAsync();
                    using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
                    Requests.Add(new Received($"{context.Request.HttpMethod} {context.Request.Url!.AbsolutePath}", context.Request.Headers["Authorization"],
                        context.Request.ContentType, await reader.ReadToEndAsync()));
                    context.Response.StatusCode = (int)status;
                    var answer = status switch
                    {
                        HttpStatusCode.Accepted => """{"accepted":4}""",
                        HttpStatusCode.BadRequest => """{"title":"One or more validation errors occurred.","status":400,"errors":{"events[0].quantity":["must be positive"]}}""",
                        _ => """{"title":"Kafka is not reachable","status":503}""",
                    };
                    context.Response.ContentType = status == HttpStatusCode.Accepted ? "application/json" : "application/problem+json";
                    var bytes = Encoding.UTF8.GetBytes(answer);
                    await context.Response.OutputStream.WriteAsync(bytes);
                    context.Response.Close();
                }
            });
        }

        public Uri Url { get; }
        public List<Received> Requests { get; } = [];

        public void Dispose()
        {
            _listener.Stop();
            _listener.Close();
            _ = _serving.Exception;
        }
    }
}

/// <summary>The raw ceiling's Kafka records: what Ingest writes for the run's requests, so the ceiling measures the system's records.</summary>
public sealed class RawCeilingRecordsTests
{
    [Fact]
    public void Each_request_becomes_one_usage_batch_v2_record_per_tenant_that_decodes_to_its_events_in_order()
    {
        var at = new DateTimeOffset(2026, 12, 1, 21, 0, 0, TimeSpan.Zero);
        var tenants = new[] { "tenant-a", "tenant-b", "tenant-a", "tenant-c", "tenant-a", "tenant-b", "tenant-b" };
        var events = tenants.Select((t, i) => new UsageEvent($"e-{i}", t, Meters.InputTokens, i + 0.5m, at.AddSeconds(i), "m")).ToArray();

        var records = Metering.LoadGenerator.Benchmarks.RawCeiling.BatchRecords(events, batchSize: 4, at);

        // Requests: [a, b, a, c] -> a, b, c; [a, b, b] -> a, b.
        Assert.Equal(["tenant-a", "tenant-b", "tenant-c", "tenant-a", "tenant-b"], records.Select(r => r.Key));
        var decoded = records.Select(r =>
        {
            Assert.True(Metering.Kafka.UsageMessages.IsBatch(r.Headers, r.Value));
            Assert.True(UsageBatchEncoding.TryRead(r.Value, out var read, out var error), error);
            return read;
        }).ToArray();
        Assert.Equal([events[0], events[2]], decoded[0]);
        Assert.Equal([events[1]], decoded[1]);
        Assert.Equal([events[3]], decoded[2]);
        Assert.Equal([events[4]], decoded[3]);
        Assert.Equal([events[5], events[6]], decoded[4]);
    }
}
