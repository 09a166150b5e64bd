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
    /// <summary>The system's processes, whose CPU is measured over the loaded windows; Budgets' memory too.</summary>
    public SystemProcesses Processes { get; init; } = new();
    public int BudgetsPid => Processes.Budgets;
    public double AuthorizeRate { get; init; } = 2000;
    public double IngestRate { get; init; } = 5000;
    /// <summary>Issue 18's condition: throttle reaction while ingesting 10,000 events/s.</summary>
    public double ReactionIngestRate { get; init; } = 10000;
    /// <summary>Events per request of the background fleet.</summary>
    public int Batch { get; init; } = LoadRun.DefaultBatchSize;
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
    public static async Task<int> RunAsync(BudgetsBenchmarkOptions options, TextWriter output, BenchmarkSummary summary, CancellationToken ct)
    {
        var run = DateTime.UtcNow.ToString("HHmmss", CultureInfo.InvariantCulture);
        using var admin = Client(options.Budgets, options.AdminToken);
        using var emitter = Client(options.Budgets, options.EmitterToken);
        output.WriteLine($"budgets benchmark {DateTime.UtcNow:yyyy-MM-dd HH:mm:ss}Z on {Environment.ProcessorCount} cores");

        using var produced = new ConsumerLag(options.Bootstrap, KafkaTopics.Usage.Name);
        var loaded = new LoadedWindow(options, produced);
        var fleetsStopped = await AuthorizeLatencyAsync(options, admin.Budgets, emitter.Budgets, $"bb-{run}-auth", loaded, output, summary, ct);
        fleetsStopped &= await ThrottleReactionAsync(options, admin.Budgets, emitter.Budgets, $"bb-{run}-react", loaded, output, summary, ct);
        await OvershootAsync(options, admin.Budgets, emitter.Budgets, $"bb-{run}-over", output, summary, ct);
        await MemoryPerTenantAsync(options, admin.Budgets, $"bb-{run}-mem", output, summary, ct);
        return fleetsStopped ? 0 : 1;
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
    /// Authorize over 100 tenants with limits, open loop (<see cref="OpenLoop"/>): requests are due at a steady rate
    /// whatever the answers take, so a slow answer cannot hold back the next request. Meanwhile the fleet's usage flows
    /// in from another process. Each latency is from sending the request to the whole answer; how late each request was
    /// sent is printed beside it, and the latency is VOID when that lateness's p99 is above 1 ms (the client measured
    /// its own starvation, not Budgets).
    /// </summary>
    /// <returns>Whether the background fleet stopped as asked.</returns>
    private static async Task<bool> AuthorizeLatencyAsync(BudgetsBenchmarkOptions options, BudgetsClient admin, BudgetsClient client, string prefix, LoadedWindow loaded,
        TextWriter output, BenchmarkSummary summary, CancellationToken ct)
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
        // The CPU and ingest window opens when the warm-up ends, off the schedule's thread, and closes with the last answer.
        var window = Task.Run(async () =>
        {
            await Task.Delay(warmUp, ct);
            return await loaded.StartAsync(fleet, ct);
        }, ct);
        using var lean = new AuthorizeOverHttp(options.Budgets, options.EmitterToken, tenants, question);
        var result = await OpenLoop.RunAsync(total, options.AuthorizeRate, i => lean.AllowedAsync(i % tenants.Length, ct));
        var cpu = await (await window).EndAsync(ct);
        var stopped = fleet is null ? null : await fleet.StopAsync();

        var figures = result.From(measuredFrom);
        var verdict = figures.Void ? $"VOID: the client sent {figures.Lateness(99):F2} ms late at p99, over the {OpenLoop.LatenessLimit.TotalMilliseconds:F0} ms it may be" : "valid";
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"authorize over HTTP: {figures.LatencyMs.Count} at {options.AuthorizeRate:F0}/s open loop (after {warmUp.TotalSeconds:F0} s of warm-up) while ingesting " +
            $"{cpu.EventsPerSecond:F0} events/s via {options.LoadVia}: p50 {figures.Latency(50):F2} ms, p99 {figures.Latency(99):F2} ms, p99.9 {figures.Latency(99.9):F2} ms, " +
            $"max {figures.LatencyMs[^1]:F2} ms ({figures.Failures} not 200{(figures.Failures > 0 ? $": {figures.Reasons()}" : "")}) [{verdict}]"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  the client's lateness (sent behind schedule): p50 {figures.Lateness(50):F3} ms, p99 {figures.Lateness(99):F3} ms, max {figures.LatenessMs[^1]:F2} ms " +
            $"(schedule thread {(result.Prioritised ? "at nice -10" : "at normal priority: raising it was not permitted")}, " +
            $"starting a request took it p50 {figures.Start(50) * 1000:F0} µs, p99 {figures.Start(99) * 1000:F0} µs)"));
        output.WriteLine($"  {cpu.Use}");
        var perAuthorize = BudgetsPerAuthorize(cpu.Use, figures.LatencyMs.Count);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  budgets cpu per authorize: {perAuthorize:F0} µs ({figures.LatencyMs.Count} authorizes in {cpu.Use.Window.TotalSeconds:F1} s; " +
            $"{(fleet is null ? "nothing else sent" : $"its usage work at {cpu.EventsPerSecond:F0} events/s included")}; load average {LoadAverage.Read()})"));
        if (stopped is { Problem: not null }) output.WriteLine($"  {stopped}; its last output:{Environment.NewLine}{stopped.OutputTail}");

        summary.Add("authorize rate", options.AuthorizeRate, "/s");
        summary.Add("authorize budgets cpu per authorize", perAuthorize, "µs");
        summary.Add("authorize ingesting", cpu.EventsPerSecond, "events/s");
        summary.Add("authorize p50", figures.Latency(50), "ms", "F2");
        summary.Add("authorize p99", figures.Latency(99), "ms", "F2");
        summary.Add("authorize p99.9", figures.Latency(99.9), "ms", "F2");
        summary.Add("authorize not 200", figures.Failures, "requests");
        summary.Add("authorize lateness p50", figures.Lateness(50), "ms", "F3");
        summary.Add("authorize lateness p99", figures.Lateness(99), "ms", "F3");
        summary.Add("authorize lateness max", figures.LatenessMs[^1], "ms", "F2");
        summary.Add("authorize start p99", figures.Start(99) * 1000, "µs");
        summary.Add("authorize latency figure", figures.Void ? "VOID" : "valid");
        summary.AddCpu("authorize load", cpu.Use);
        if (stopped is not null) summary.Add("authorize fleet stopped", stopped.Problem is null ? "yes" : "killed");
        return stopped?.Problem is null;
    }

    /// <summary>
    /// Budgets' CPU over the window divided by the authorizes sent in it: what one answer costs the process that answers,
    /// the figure to steer by on a machine too busy for the latency to mean much.
    /// </summary>
    private static double BudgetsPerAuthorize(CpuUse use, int authorizes) =>
        use.Groups.FirstOrDefault(g => g.Name == "budgets") is { Processes: > 0 } budgets && authorizes > 0
            ? budgets.Ticks * 1e6 / use.TicksPerSecond / authorizes
            : double.NaN;

    /// <summary>
    /// Per trial a tenant one unit below its hard limit; a client authorizes 1 unit in a loop; the event that reaches the
    /// limit is produced through the emitter library; the time until the first 429 is the reaction time.
    /// </summary>
    /// <returns>Whether the background fleet stopped as asked.</returns>
    private static async Task<bool> ThrottleReactionAsync(BudgetsBenchmarkOptions options, BudgetsClient admin, BudgetsClient client, string prefix, LoadedWindow loaded,
        TextWriter output, BenchmarkSummary summary, CancellationToken ct)
    {
        await using var emitter = new UsageEmitter(new UsageEmitterOptions { BootstrapServers = options.Bootstrap, LingerMs = 0, WatchThrottles = false });
        await using var fleet = options.ReactionIngestRate > 0 ? await StartFleetAsync(options, prefix + "-load", options.ReactionIngestRate, ct) : null;

        var window = await loaded.StartAsync(fleet, ct);
        var reactions = new List<double>();
        var unseen = 0;
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
            var refused = false;
            while (!(refused = !(await AuthorizeAsync(client, tenant, 1, false, ct)).Allowed) && Stopwatch.GetElapsedTime(produced) < TimeSpan.FromSeconds(30)) { }
            reactions.Add(Stopwatch.GetElapsedTime(produced).TotalMilliseconds);
            if (!refused) unseen++;
        }
        var cpu = await window.EndAsync(ct);
        var stopped = fleet is null ? null : await fleet.StopAsync();
        reactions.Sort();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"throttle reaction (produce of the crossing event -> first 429), {reactions.Count} trials while ingesting {cpu.EventsPerSecond:F0} events/s via {options.LoadVia}: " +
            $"p50 {Percentile.Of(reactions, 50):F0} ms, p99 {Percentile.Of(reactions, 99):F0} ms, max {reactions[^1]:F0} ms{(unseen > 0 ? $" ({unseen} trials saw no 429 within 30 s)" : "")}"));
        output.WriteLine($"  {cpu.Use}");
        if (stopped is { Problem: not null }) output.WriteLine($"  {stopped}; its last output:{Environment.NewLine}{stopped.OutputTail}");

        summary.Add("throttle reaction ingesting", cpu.EventsPerSecond, "events/s");
        summary.Add("throttle reaction p50", Percentile.Of(reactions, 50), "ms");
        summary.Add("throttle reaction p99", Percentile.Of(reactions, 99), "ms");
        summary.Add("throttle reaction max", reactions[^1], "ms");
        summary.AddCpu("throttle reaction load", cpu.Use);
        if (stopped is not null) summary.Add("throttle reaction fleet stopped", stopped.Problem is null ? "yes" : "killed");
        return stopped?.Problem is null;
    }

    /// <summary>
    /// The measuring client of authorize: one request is one POST of a body serialized once per tenant, over a
    /// <see cref="SocketsHttpHandler"/> of up to 256 kept-alive connections, read to the end of the answer. Not the
    /// <see cref="MeteringClient"/>: its resilience pipeline (rate limiter, timeouts, breaker, retry) cost the schedule
    /// thread about as much as the request itself, and its limiter refuses a 1,001st concurrent request, which is the
    /// client failing, not Budgets. 200 is allowed; 429 (or anything else) is not.
    /// </summary>
    private sealed class AuthorizeOverHttp : IDisposable
    {
        private static readonly System.Net.Http.Headers.MediaTypeHeaderValue Json = new("application/json");
        private readonly HttpClient _http;
        private readonly (Uri Path, byte[] Body)[] _requests;

        public AuthorizeOverHttp(Uri budgets, string token, IReadOnlyList<string> tenants, AuthorizeRequest question)
        {
            _http = new HttpClient(new SocketsHttpHandler
            {
                MaxConnectionsPerServer = 256,
                PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
                UseProxy = false,
                UseCookies = false,
                AutomaticDecompression = System.Net.DecompressionMethods.None,
                ConnectTimeout = TimeSpan.FromSeconds(10),
            })
            {
                BaseAddress = budgets,
                Timeout = TimeSpan.FromSeconds(30),
                DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Bearer", token) },
            };
            var body = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(question, MeteringJson.Options);
            _requests = tenants.Select(t => (new Uri(budgets, $"/v1/tenants/{Uri.EscapeDataString(t)}/authorize"), body)).ToArray();
        }

        public async Task<bool> AllowedAsync(long tenant, CancellationToken ct)
        {
            var (path, body) = _requests[tenant];
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body) { Headers = { ContentType = Json } } };
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, ct);
            return response.StatusCode == System.Net.HttpStatusCode.OK;
        }

        public void Dispose() => _http.Dispose();
    }

    /// <summary>
    /// A window of a loaded phase: the records produced to the usage topic in it (the fleet's and any other producer's)
    /// and every process's CPU over it, the fleet process counted with the load generator.
    /// </summary>
    private sealed class LoadedWindow(BudgetsBenchmarkOptions options, ConsumerLag topic)
    {
        public sealed record Figures(CpuUse Use, double EventsPerSecond);

        public async Task<Measuring> StartAsync(FleetProcess? fleet, CancellationToken ct)
        {
            var groups = options.Processes.Groups(() => fleet is null ? [] : [fleet.Pid]);
            var start = topic.Produced();
            return new Measuring(topic, start, await CpuWindow.StartAsync(groups, ct), Stopwatch.StartNew());
        }

        public sealed class Measuring(ConsumerLag topic, long start, CpuWindow cpu, Stopwatch clock)
        {
            public async Task<Figures> EndAsync(CancellationToken ct)
            {
                var events = topic.Produced() - start;
                var elapsed = clock.Elapsed;
                return new Figures(await cpu.EndAsync(events, ct), events / elapsed.TotalSeconds);
            }
        }
    }

    /// <summary>Starts the background usage and gives the system time to reach its steady state (new tenants' grains and rows, compiled paths).</summary>
    private static async Task<FleetProcess> StartFleetAsync(BudgetsBenchmarkOptions options, string tenantPrefix, double eventsPerSecond, CancellationToken ct)
    {
        var fleet = FleetProcess.Start(eventsPerSecond, tenantPrefix, options.LoadVia, options.Ingest, options.EmitterToken, options.Bootstrap, options.Batch);
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
    private static async Task OvershootAsync(BudgetsBenchmarkOptions options, BudgetsClient admin, BudgetsClient client, string prefix, TextWriter output, BenchmarkSummary summary, CancellationToken ct)
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
        summary.Add("overshoot", Math.Max(0, used - limit).ToString(CultureInfo.InvariantCulture), "units");
        summary.Add("overshoot counted exactly", used == expected ? "yes" : "no");
    }

    /// <summary>
    /// The silo's managed heap (after a full collection, <c>GET /v1/diagnostics/memory</c>) before and after one usage event
    /// and a limit each for many new tenants; resident memory too, which also counts the runtime's own headroom.
    /// </summary>
    private static async Task MemoryPerTenantAsync(BudgetsBenchmarkOptions options, BudgetsClient admin, string prefix, TextWriter output, BenchmarkSummary summary, CancellationToken ct)
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
        summary.Add("memory managed heap per tenant", (after.ManagedBytes - before.ManagedBytes) / 1024.0 / Math.Max(1, grains), "KiB", "F2");
        summary.Add("memory resident per tenant", options.BudgetsPid == 0 ? double.NaN : (rssAfter - rssBefore) / 1024.0 / Math.Max(1, grains), "KiB", "F2");
    }

    private sealed record MemoryReport(long ManagedBytes, int ActiveTenantGrains);

    private static long ResidentBytes(int pid) =>
        File.ReadLines($"/proc/{pid}/status").Where(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
            .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024).Single();
}
