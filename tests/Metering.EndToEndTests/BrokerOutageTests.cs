using Xunit.Abstractions;

namespace Metering.EndToEndTests;

/// <summary>
/// The broker unreachable while emitters post usage: Ingest says 503 with Retry-After for what Kafka did not
/// acknowledge, clients send the same requests again once it is back, and every event counts once — also the ones
/// that reached Kafka twice.
/// </summary>
[Collection(FaultSystemCollection.Name)]
public sealed class BrokerOutageTests(FaultMeteringSystem system, ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    /// <summary>Longer than Ingest's Kafka delivery timeout (30 s), which is what turns an unreachable broker into a 503.</summary>
    private static readonly TimeSpan Downtime = TimeSpan.FromSeconds(35);

    private readonly HttpClient _patientClient = new() { Timeout = TimeSpan.FromSeconds(90) };

    [Fact]
    public async Task Broker_down_during_ingest_answers_503_with_Retry_After_and_the_retried_requests_count_once()
    {
        await system.WaitUntilAllReadyAsync(TimeSpan.FromMinutes(1));
        var tenant = $"kafkadown-{Guid.NewGuid():N}"[..26];
        var before = Events(tenant, "before", 20);
        var during = Events(tenant, "during", 20);
        var clock = Stopwatch.StartNew();
        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync(before)).Status);

        // Other emitters keep posting all along; their client sends a request again, unchanged, until it gets 202.
        await using var sink = new HttpSink(system.Ingest.Url, MeteringSystem.EmitterToken);
        var run = LoadRun.RunAsync(new LoadOptions
        {
            EventsPerSecond = 200,
            Duration = TimeSpan.FromMinutes(5),
            MaxEvents = 9_000,
            Tenants = 6,
            TenantPrefix = $"kafkadown-{Guid.NewGuid():N}"[..18] + "-",
            BatchSize = 100,
            Senders = 4,
        }, sink);

        await Task.Delay(TimeSpan.FromSeconds(2));
        await system.Kafka.SendAsync("down");
        var down = clock.Elapsed;
        var refused = PostAsync(during);
        await Task.Delay(TimeSpan.FromSeconds(10));
        using var probe = new OutageProbe(system);
        var ingestReadyWhileDown = await probe.ReadinessAsync(system.Ingest);
        var (status, retryAfter, took) = await refused;
        var remaining = Downtime - (clock.Elapsed - down);
        if (remaining > TimeSpan.Zero) await Task.Delay(remaining);
        await system.Kafka.SendAsync("up");
        output.WriteLine($"broker down from {down.TotalSeconds:F1} s to {clock.Elapsed.TotalSeconds:F1} s; the request sent while it was down: " +
                         $"{(int)status}{(retryAfter is null ? "" : $" Retry-After: {retryAfter}")} after {took.TotalSeconds:F1} s; Ingest readiness meanwhile: {ingestReadyWhileDown}");

        // The emitter retries the refused request once the broker is back, and, not having seen that 202 (a lost
        // response), once more: its events reach Kafka twice and must count once.
        var retried = await RetryUntilAcceptedAsync(during);
        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync(during)).Status);
        output.WriteLine($"the refused request accepted on attempt {retried} after the broker was back");

        var sent = await run;
        sent.Confirmed(before);
        sent.Confirmed(during);
        output.WriteLine($"the stream: {sent.Events} events in {sent.Elapsed.TotalSeconds:F1} s; {sink.Retries} requests sent again");
        using var verification = new Verification(system.Budgets.Url, system.Billing.Url, MeteringSystem.AdminToken);
        var lines = await verification.WaitForMatchAsync(sent, Patience, CancellationToken.None);
        output.WriteLine(Verification.ToTable(lines));
        Assert.True(lines.All(l => l.Matches), Verification.ToTable(lines));
        Assert.Equal(sent.Totals.Count, lines.Count);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.NotNull(retryAfter);
        Assert.True(sink.Retries > 0, "the stream's requests should have been refused while the broker was down, and sent again");
        OutageAssert.NotReady(ingestReadyWhileDown);
        Assert.Equal(200, (await probe.ReadinessAsync(system.Ingest)).Status);
    }

    /// <summary>Sends again, as a client honouring Retry-After would, until Ingest accepts; returns the attempts it took.</summary>
    private async Task<int> RetryUntilAcceptedAsync(IReadOnlyList<UsageEvent> events)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        for (var attempt = 1; ; attempt++)
        {
            var (status, retryAfter, _) = await PostAsync(events);
            if (status == HttpStatusCode.Accepted) return attempt;
            Assert.True(status == HttpStatusCode.ServiceUnavailable && DateTime.UtcNow < deadline, $"attempt {attempt} after the broker was back: {(int)status}");
            await Task.Delay(retryAfter ?? TimeSpan.FromSeconds(1));
        }
    }

    private async Task<(HttpStatusCode Status, TimeSpan? RetryAfter, TimeSpan Took)> PostAsync(IReadOnlyList<UsageEvent> events)
    {
        var started = Stopwatch.StartNew();
        using var request = system.Request(HttpMethod.Post, system.Ingest, "/v1/usage", MeteringSystem.EmitterToken,
            new StringContent(JsonSerializer.Serialize(new { events }, MeteringJson.Options), Encoding.UTF8, "application/json"));
        using var response = await _patientClient.SendAsync(request);
        return (response.StatusCode, response.Headers.RetryAfter?.Delta, started.Elapsed);
    }

    private static List<UsageEvent> Events(string tenant, string prefix, int count) =>
        [.. Enumerable.Range(1, count).Select(i => new UsageEvent($"{prefix}-{i}", tenant, i % 2 == 0 ? Meters.InputTokens : Meters.GpuSeconds,
            i % 2 == 0 ? 1000 + i : 1.5m + i / 1000m, DateTimeOffset.UtcNow.AddSeconds(-1), "llama-4-70b", i % 2 == 0 ? null : "h100", "chat-api"))];

    public void Dispose() => _patientClient.Dispose();
}
