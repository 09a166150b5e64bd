using System.Net.Http.Headers;
using System.Net.Http.Json;
using Metering.Client;
using Metering.Contracts.Budgets;
using Metering.Emitter;

namespace Metering.LoadGenerator.Benchmarks;

public sealed record BudgetsBenchmarkOptions
{
    public required Uri Ingest { get; init; }
    public required Uri Budgets { get; init; }
    public required string AdminToken { get; init; }
    public required string EmitterToken { get; init; }
    public required string Bootstrap { get; init; }
    public int BudgetsPid { get; init; }
    public double AuthorizeRate { get; init; } = 2000;
    public double IngestRate { get; init; } = 5000;
    public double ReactionIngestRate { get; init; } = 20000;
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(20);
    /// <summary>Enough for a p99 that is not simply the slowest trial.</summary>
    public int ReactionTrials { get; init; } = 200;
    public int Clients { get; init; } = 200;
    public int ActiveTenants { get; init; } = 10_000;
    /// <summary>How the background usage is sent: <c>kafka</c> (the emitter library, as inference services do) or <c>http</c> (Ingest).</summary>
    public string LoadVia { get; init; } = "kafka";
    /// <summary>How long the background usage runs before anything is measured.</summary>
    public TimeSpan Settle { get; init; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// <c>./metering bench budgets</c>: authorize latency over HTTP while usage is ingested; throttle reaction time from
/// producing the crossing event to the first 429; overshoot of concurrent reserving clients; silo memory per active tenant.
/// </summary>
public static class BudgetsBenchmark
{
    public static async Task<int> RunAsync(BudgetsBenchmarkOptions options, TextWriter output, CancellationToken ct)
    {
        var run = DateTime.UtcNow.ToString("HHmmss", CultureInfo.InvariantCulture);
        using var admin = Client(options.Budgets, options.AdminToken);
        using var emitter = Client(options.Budgets, options.EmitterToken);
        output.WriteLine($"budgets benchmark {DateTime.UtcNow:yyyy-MM-dd HH:mm:ss}Z on {Environment.ProcessorCount} cores");

        await AuthorizeLatencyAsync(options, admin.Budgets, emitter.Budgets, $"bb-{run}-auth", output, ct);
        await ThrottleReactionAsync(options, admin.Budgets, emitter.Budgets, $"bb-{run}-react", output, ct);
        await OvershootAsync(options, admin.Budgets, emitter.Budgets, $"bb-{run}-over", output, ct);
        await MemoryPerTenantAsync(options, admin.Budgets, $"bb-{run}-mem", output, ct);
        return 0;
    }

    /// <summary>
    /// One client per token for the whole run: its connections (up to 256) are reused by every request. It repeats
    /// nothing, so each measured authorize is one request and a failure is counted, not hidden in a slower retry.
    /// </summary>
    private static MeteringClient Client(Uri budgets, string token) => MeteringClient.Create(o =>
    {
        (o.Budgets, o.Token, o.MaxConnectionsPerServer) = (budgets, token, 256);
        o.Resilience = MeteringResilience.RepeatNothing;
    });

    private static Task PutQuotaAsync(BudgetsClient admin, string tenant, decimal limit, CancellationToken ct) =>
        admin.PutQuotaAsync(tenant, new QuotaRequest([new QuotaLimit(Meters.InputTokens, Periods.Day, limit, 80, Enforcements.Throttle)]), ct: ct);

    private static Task<AuthorizeResponse> AuthorizeAsync(BudgetsClient client, string tenant, decimal quantity, bool reserve, CancellationToken ct) =>
        AnswerAsync(client, tenant, new AuthorizeRequest(Meters.InputTokens, quantity, "m", Reserve: reserve), ct);

    /// <summary>The answer; a refusal of the service (a 503 while a grain moves) counts as not allowed, as any answer but 200 always has here.</summary>
    private static async Task<AuthorizeResponse> AnswerAsync(BudgetsClient client, string tenant, AuthorizeRequest request, CancellationToken ct)
    {
        try
        {
            return await client.AuthorizeAsync(tenant, request, ct);
        }
        catch (MeteringApiException refused)
        {
            return new AuthorizeResponse(false, refused.Message);
        }
    }

    /// <summary>
    /// Authorize over 100 tenants with limits, open loop: requests are due at a steady rate whatever the answers take, so
    /// a slow answer cannot hold back the next request. Meanwhile the fleet's usage flows in from another process.
    /// Each latency is from sending the request to the whole answer; how late requests went out is reported too, so a
    /// client that could not keep its schedule shows.
    /// </summary>
    private static async Task AuthorizeLatencyAsync(BudgetsBenchmarkOptions options, BudgetsClient admin, BudgetsClient client, string prefix, TextWriter output, CancellationToken ct)
    {
        var tenants = Enumerable.Range(0, 100).Select(i => $"{prefix}-{i:D3}").ToArray();
        foreach (var tenant in tenants) await PutQuotaAsync(admin, tenant, 1e15m, ct);
        foreach (var tenant in tenants) await AuthorizeAsync(client, tenant, 1, false, ct); // activates the grains

        await using var fleet = options.IngestRate > 0 ? await StartFleetAsync(options, prefix + "-u", options.IngestRate, ct) : null;
        // The first seconds open the client's connections and compile the paths; only the steady state is measured.
        var warmUp = TimeSpan.FromSeconds(3);
        var question = new AuthorizeRequest(Meters.InputTokens, 1, "m");
        var total = (long)(options.AuthorizeRate * (warmUp + options.Duration).TotalSeconds);
        var measuredFrom = (long)(options.AuthorizeRate * warmUp.TotalSeconds);
        var latencies = new double[total];
        var lateness = new double[total];
        var failures = 0;
        var start = Stopwatch.GetTimestamp();
        long next = -1;
        var workers = Enumerable.Range(0, 64).Select(_ => Task.Run(async () =>
        {
            for (long i; (i = Interlocked.Increment(ref next)) < total;)
            {
                var due = start + (long)(i / options.AuthorizeRate * Stopwatch.Frequency);
                var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
                if (wait > TimeSpan.Zero) await Task.Delay(wait, ct);
                var sent = Stopwatch.GetTimestamp();
                var allowed = (await AnswerAsync(client, tenants[i % tenants.Length], question, ct)).Allowed;
                latencies[i] = Stopwatch.GetElapsedTime(sent).TotalMilliseconds;
                lateness[i] = Stopwatch.GetElapsedTime(due, sent).TotalMilliseconds;
                if (!allowed && i >= measuredFrom) Interlocked.Increment(ref failures);
            }
        }, ct)).ToArray();
        await Task.WhenAll(workers);
        var ingested = fleet is null ? 0 : await fleet.StopAsync();

        var measured = latencies[(int)measuredFrom..].Order().ToList();
        var late = lateness[(int)measuredFrom..].Order().ToList();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"authorize over HTTP: {measured.Count} at {options.AuthorizeRate:F0}/s open loop (after {warmUp.TotalSeconds:F0} s of warm-up) while ingesting {ingested:F0} events/s " +
            $"via {options.LoadVia}: p50 {Percentile.Of(measured, 50):F2} ms, p99 {Percentile.Of(measured, 99):F2} ms, p99.9 {Percentile.Of(measured, 99.9):F2} ms, " +
            $"max {measured[^1]:F2} ms ({failures} not 200; sent behind schedule: p99 {Percentile.Of(late, 99):F2} ms)"));
    }

    /// <summary>
    /// Per trial a tenant one unit below its hard limit; a client authorizes 1 unit in a loop; the event that reaches the
    /// limit is produced through the emitter library; the time until the first 429 is the reaction time.
    /// </summary>
    private static async Task ThrottleReactionAsync(BudgetsBenchmarkOptions options, BudgetsClient admin, BudgetsClient client, string prefix, TextWriter output, CancellationToken ct)
    {
        await using var emitter = new UsageEmitter(new UsageEmitterOptions { BootstrapServers = options.Bootstrap, LingerMs = 0, WatchThrottles = false });
        await using var fleet = options.ReactionIngestRate > 0 ? await StartFleetAsync(options, prefix + "-load", options.ReactionIngestRate, ct) : null;

        var reactions = new List<double>();
        for (var trial = 0; trial < options.ReactionTrials; trial++)
        {
            var tenant = $"{prefix}-{trial:D3}";
            await PutQuotaAsync(admin, tenant, 1000, ct);
            await emitter.EmitAsync(new UsageEvent($"{tenant}-base", tenant, Meters.InputTokens, 999, DateTimeOffset.UtcNow, "m"), ct);
            await emitter.FlushAsync(ct);
            // Wait until the 999 are counted: then 1 more unit is still allowed.
            var deadline = Stopwatch.StartNew();
            while ((await AuthorizeAsync(client, tenant, 2, false, ct)).Allowed && deadline.Elapsed < TimeSpan.FromSeconds(30)) await Task.Delay(5, ct);

            var produced = Stopwatch.GetTimestamp();
            await emitter.EmitAsync(new UsageEvent($"{tenant}-cross", tenant, Meters.InputTokens, 1, DateTimeOffset.UtcNow, "m"), ct);
            _ = emitter.FlushAsync(ct);
            while ((await AuthorizeAsync(client, tenant, 1, false, ct)).Allowed && Stopwatch.GetElapsedTime(produced) < TimeSpan.FromSeconds(30)) { }
            reactions.Add(Stopwatch.GetElapsedTime(produced).TotalMilliseconds);
        }
        var ingested = fleet is null ? 0 : await fleet.StopAsync();
        reactions.Sort();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"throttle reaction (produce of the crossing event -> first 429), {reactions.Count} trials while ingesting {ingested:F0} events/s via {options.LoadVia}: " +
            $"p50 {Percentile.Of(reactions, 50):F0} ms, p99 {Percentile.Of(reactions, 99):F0} ms, max {reactions[^1]:F0} ms"));
    }

    /// <summary>Starts the background usage and gives the system time to reach its steady state (new tenants' grains and rows, compiled paths).</summary>
    private static async Task<FleetProcess> StartFleetAsync(BudgetsBenchmarkOptions options, string tenantPrefix, double eventsPerSecond, CancellationToken ct)
    {
        var fleet = FleetProcess.Start(eventsPerSecond, tenantPrefix, options.LoadVia, options.Ingest, options.EmitterToken, options.Bootstrap);
        try
        {
            await Task.Delay(options.Settle, ct);
        }
        catch
        {
            await fleet.DisposeAsync();
            throw;
        }
        return fleet;
    }

    /// <summary>Concurrent clients reserve, then emit the usage that settles the reservation, until they are refused.</summary>
    private static async Task OvershootAsync(BudgetsBenchmarkOptions options, BudgetsClient admin, BudgetsClient client, string prefix, TextWriter output, CancellationToken ct)
    {
        const decimal limit = 100_000;
        var tenant = prefix;
        await PutQuotaAsync(admin, tenant, limit, ct);
        await using var sink = new HttpSink(options.Ingest, options.EmitterToken);
        await sink.SendAsync([new UsageEvent($"{tenant}-base", tenant, Meters.InputTokens, limit - 5_000, DateTimeOffset.UtcNow, "m")], ct);
        while ((await AuthorizeAsync(client, tenant, 5_001, false, ct)).Allowed) await Task.Delay(10, ct);

        long granted = 0, emitted = 0;
        var clients = Enumerable.Range(0, options.Clients).Select(c => Task.Run(async () =>
        {
            var random = new Random(c);
            for (var n = 0; ; n++)
            {
                var quantity = random.Next(1, 40);
                var reservation = (await AuthorizeAsync(client, tenant, quantity, true, ct)).ReservationId;
                if (reservation is null) return;
                Interlocked.Increment(ref granted);
                await sink.SendAsync([new UsageEvent($"{tenant}-{c}-{n}", tenant, Meters.InputTokens, quantity, DateTimeOffset.UtcNow, "m",
                    Attributes: new Dictionary<string, string> { ["reservation_id"] = reservation })], ct);
                Interlocked.Add(ref emitted, quantity);
            }
        }, ct)).ToArray();
        await Task.WhenAll(clients);

        var expected = limit - 5_000 + emitted;
        BudgetView? budget = null;
        for (var i = 0; i < 600; i++)
        {
            budget = await client.GetBudgetAsync(tenant, ct);
            if (budget.Limits.Single().Used == expected) break;
            await Task.Delay(100, ct);
        }
        var used = budget!.Limits.Single().Used;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"overshoot: {options.Clients} concurrent clients reserving against one tenant 5,000 below its limit of {limit}: {granted} reservations granted, " +
            $"used ends at {used} (counted {(used == expected ? "exactly" : $"NOT exactly, expected {expected}")}), overshoot {Math.Max(0, used - limit)}"));
    }

    /// <summary>
    /// The silo's managed heap (after a full collection, <c>GET /v1/diagnostics/memory</c>) before and after one usage event
    /// and a limit each for many new tenants; resident memory too, which also counts the runtime's own headroom.
    /// </summary>
    private static async Task MemoryPerTenantAsync(BudgetsBenchmarkOptions options, BudgetsClient admin, string prefix, TextWriter output, CancellationToken ct)
    {
        // A diagnostics endpoint, not the public API the client covers.
        using var diagnostics = new HttpClient { BaseAddress = options.Budgets, DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Bearer", options.AdminToken) } };
        var before = await diagnostics.GetFromJsonAsync<MemoryReport>("/v1/diagnostics/memory", MeteringJson.Options, ct);
        var rssBefore = options.BudgetsPid == 0 ? 0 : ResidentBytes(options.BudgetsPid);
        await using var sink = new HttpSink(options.Ingest, options.EmitterToken);
        var tenants = Enumerable.Range(0, options.ActiveTenants).Select(i => $"{prefix}-{i:D5}").ToArray();
        foreach (var chunk in tenants.Chunk(500))
            await sink.SendAsync(chunk.Select(t => new UsageEvent($"{t}-1", t, Meters.InputTokens, 1, DateTimeOffset.UtcNow, "m")).ToList(), ct);
        await Parallel.ForEachAsync(tenants, new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = ct },
            async (t, token) => await PutQuotaAsync(admin, t, 1_000_000, token));
        // Measured once every tenant's usage is counted, so that no batch of the consumer is still in the heap.
        await Parallel.ForEachAsync(tenants, new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = ct }, async (t, token) =>
        {
            for (var attempt = 0; attempt < 600; attempt++)
            {
                var budget = await admin.GetBudgetAsync(t, token);
                if (budget.Limits.Single().Used == 1) return;
                await Task.Delay(100, token);
            }
            throw new InvalidOperationException($"{t}'s usage was not counted within a minute");
        });
        await Task.Delay(TimeSpan.FromSeconds(2), ct);
        var after = await diagnostics.GetFromJsonAsync<MemoryReport>("/v1/diagnostics/memory", MeteringJson.Options, ct);
        var rssAfter = options.BudgetsPid == 0 ? 0 : ResidentBytes(options.BudgetsPid);
        var grains = after!.ActiveTenantGrains - before!.ActiveTenantGrains;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"memory: {grains} more active tenant grains (totals, one limit each): managed heap +{(after.ManagedBytes - before.ManagedBytes) / 1024.0 / 1024.0:F1} MiB " +
            $"= {(after.ManagedBytes - before.ManagedBytes) / 1024.0 / Math.Max(1, grains):F2} KiB per tenant; resident memory " +
            $"+{(rssAfter - rssBefore) / 1024.0 / 1024.0:F1} MiB = {(rssAfter - rssBefore) / 1024.0 / Math.Max(1, grains):F2} KiB per tenant"));
    }

    private sealed record MemoryReport(long ManagedBytes, int ActiveTenantGrains);

    private static long ResidentBytes(int pid) =>
        File.ReadLines($"/proc/{pid}/status").Where(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
            .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024).Single();
}
