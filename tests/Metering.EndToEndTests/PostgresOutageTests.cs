using System.Diagnostics;
using Metering.LoadGenerator;
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
    private static string Month => DateTime.UtcNow.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture);

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
        // Let the pools meet the dropped connections first: the probes are about a database that is down, not one going down.
        await Task.Delay(TimeSpan.FromSeconds(1));
        using var probe = new OutageProbe(system);
        var answers = await probe.NeedingTheDatabaseAsync($"pgstop-unseen-{Guid.NewGuid():N}"[..30], Month);
        var budgetsReady = await probe.ReadinessAsync(system.Budgets);
        var billingReady = await probe.ReadinessAsync(system.Billing);
        var ingestReady = await probe.ReadinessAsync(system.Ingest);
        var remaining = TimeSpan.FromSeconds(5) - (clock.Elapsed - stopped);
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

    private async Task AssertEveryTotalExact(SentReport sent)
    {
        using var verification = new Verification(system.Budgets.Url, system.Billing.Url, MeteringSystem.AdminToken);
        var lines = await verification.WaitForMatchAsync(sent, Patience, CancellationToken.None);
        output.WriteLine(Verification.ToTable(lines));
        Assert.True(lines.All(l => l.Matches), Verification.ToTable(lines));
        Assert.Equal(sent.Totals.Count, lines.Count);
    }
}
