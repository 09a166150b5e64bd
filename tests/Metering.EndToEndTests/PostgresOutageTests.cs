using Xunit.Abstractions;

namespace Metering.EndToEndTests;

/// <summary>
/// PostgreSQL fails under a stream of usage, Ingest keeps accepting it into Kafka, and once PostgreSQL is back
/// Budgets and Billing have counted every accepted event exactly once, without anyone restarting them.
/// </summary>
[Collection(FaultSystemCollection.Name)]
public sealed class PostgresOutageTests(FaultMeteringSystem system, ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    private static LoadOptions Load(string prefix, long events, double rate) => new()
    {
        EventsPerSecond = rate,
        Duration = TimeSpan.FromMinutes(5),
        MaxEvents = events,
        Tenants = 8,
        TenantPrefix = $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)] + "-",
        BatchSize = 200,
        Senders = 4,
    };

    [Fact]
    public async Task PostgreSQL_stopped_hard_mid_stream_and_restarted_loses_no_event_and_counts_none_twice()
    {
        await system.WaitUntilAllReadyAsync(TimeSpan.FromMinutes(1));
        var clock = Stopwatch.StartNew();
        await using var sink = new HttpSink(system.Ingest.Url, MeteringSystem.EmitterToken);
        var run = LoadRun.RunAsync(Load("pgstop", 8_000, 1_000), sink);

        await Task.Delay(TimeSpan.FromSeconds(2));
        await system.Postgres.StopHardAsync();
        var stopped = clock.Elapsed;
        var downtime = TimeSpan.FromSeconds(5);
        var backAt = DateTime.UtcNow + downtime;
        // Let the pools meet the dropped connections first: the probes are about a database that is down, not one going down.
        await Task.Delay(TimeSpan.FromSeconds(1));
        using var probe = new OutageProbe(system);
        var answers = await probe.NeedingTheDatabaseAsync($"pgstop-unseen-{Guid.NewGuid():N}"[..30], Month);
        var ingestReady = await probe.ReadinessAsync(system.Ingest);
        var readiness = await Task.WhenAll(
            probe.ReadinessUntilNotReadyAsync(system.Budgets, backAt - TimeSpan.FromSeconds(0.5)),
            probe.ReadinessUntilNotReadyAsync(system.Billing, backAt - TimeSpan.FromSeconds(0.5)));
        var (budgetsReady, billingReady) = (readiness[0], readiness[1]);
        var remaining = downtime - (clock.Elapsed - stopped);
        if (remaining > TimeSpan.Zero) await Task.Delay(remaining);
        await system.Postgres.StartAgainAsync();
        output.WriteLine($"PostgreSQL down from {stopped.TotalSeconds:F1} s to {clock.Elapsed.TotalSeconds:F1} s of the stream");

        var sent = await run;
        output.WriteLine($"sent {sent.Events} events in {sent.Elapsed.TotalSeconds:F1} s; {sink.Retries} requests retried");
        await AssertEveryTotalExact(sent);
        output.WriteLine($"every total exact {clock.Elapsed.TotalSeconds:F1} s after the stream started");

        output.WriteLine(OutageAnswer.Describe([.. answers, budgetsReady, billingReady, ingestReady]));
        Assert.Equal(200, ingestReady.Status); // Ingest needs Kafka only: it kept accepting usage
        OutageAssert.AllUnavailableWithRetryAfter(answers);
        OutageAssert.NotReady(budgetsReady);
        OutageAssert.NotReady(billingReady);
    }

    /// <summary>
    /// The consumers' budget for one batch is the store timeout (<see cref="FaultMeteringSystem.StoreTimeout"/>);
    /// past it they abandon the batch and restart from their committed offsets, and they restart without limit. Here
    /// PostgreSQL first hangs (every query and connection stalls) for three times that budget, so each consumer gives
    /// up on its batch, then it is killed and stays down for twice the budget more before it is started again.
    /// </summary>
    [Fact]
    public async Task PostgreSQL_hung_then_down_for_longer_than_the_consumers_store_timeout_the_consumers_recover_on_their_own()
    {
        await system.WaitUntilAllReadyAsync(TimeSpan.FromMinutes(1));
        var logsFrom = new[] { system.Budgets, system.Billing }.ToDictionary(s => s, s => new FileInfo(s.LogPath).Length);
        var clock = Stopwatch.StartNew();
        await using var sink = new HttpSink(system.Ingest.Url, MeteringSystem.EmitterToken);
        var run = LoadRun.RunAsync(Load("pghang", 12_000, 500), sink);

        await Task.Delay(TimeSpan.FromSeconds(2));
        await system.Postgres.FreezeAsync();
        var frozen = clock.Elapsed;
        await Task.Delay(3 * FaultMeteringSystem.StoreTimeout);
        // The hung host is restarted by whoever watches it: killed, and back some time later.
        await system.Postgres.ThawAsync();
        await system.Postgres.StopHardAsync();
        var stopped = clock.Elapsed;
        await Task.Delay(2 * FaultMeteringSystem.StoreTimeout);
        await system.Postgres.StartAgainAsync();
        output.WriteLine($"PostgreSQL hung from {frozen.TotalSeconds:F1} s, down from {stopped.TotalSeconds:F1} s, back at {clock.Elapsed.TotalSeconds:F1} s of the stream");

        var sent = await run;
        output.WriteLine($"sent {sent.Events} events in {sent.Elapsed.TotalSeconds:F1} s; {sink.Retries} requests retried");
        await AssertEveryTotalExact(sent);
        output.WriteLine($"every total exact {clock.Elapsed.TotalSeconds:F1} s after the stream started");

        // The budget was exceeded indeed: each consumer abandoned a batch on its timeout (else this test proved less than it says).
        foreach (var (consumer, from) in logsFrom)
            Assert.Contains($"took longer than {FaultMeteringSystem.StoreTimeout}", await ReadLogAsync(consumer, from));
    }

    /// <summary>What the service logged since <paramref name="from"/> (a length of its log file).</summary>
    private static async Task<string> ReadLogAsync(ServiceProcess service, long from)
    {
        await using var file = new FileStream(service.LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        file.Position = from;
        using var reader = new StreamReader(file);
        return await reader.ReadToEndAsync();
    }

    private async Task AssertEveryTotalExact(SentReport sent)
    {
        using var verification = new Verification(system.Budgets.Url, system.Billing.Url, MeteringSystem.AdminToken);
        var lines = await verification.WaitForMatchAsync(sent, Patience, CancellationToken.None);
        output.WriteLine(Verification.ToTable(lines));
        Assert.True(lines.All(l => l.Matches), Verification.ToTable(lines));
        Assert.Equal(sent.Totals.Count, lines.Count);
    }
}
