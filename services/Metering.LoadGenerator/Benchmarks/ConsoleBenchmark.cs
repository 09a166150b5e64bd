using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Metering.Client;
using Metering.Contracts.Billing;
using Metering.Contracts.Budgets;
using Metering.Emitter;
using Microsoft.Playwright;

namespace Metering.LoadGenerator.Benchmarks;

public sealed record ConsoleBenchmarkOptions
{
    public required Uri Budgets { get; init; }
    public required Uri Billing { get; init; }
    public required Uri Console { get; init; }
    public required string AdminToken { get; init; }
    public required string Bootstrap { get; init; }
    /// <summary>console/dist: the built app whose JavaScript is weighed.</summary>
    public required string Dist { get; init; }
    public int Tenants { get; init; } = 10_000;
    public long Events { get; init; } = 1_000_000;
    /// <summary>The usage's timestamps are spread over this many days up to now (at most 62: how old an event may be).</summary>
    public int Days { get; init; } = 30;
    public int Teams { get; init; } = 50;
    /// <summary>Measured navigations of each page (after one warm-up each).</summary>
    public int Runs { get; init; } = 10;
    public int Seed { get; init; } = 42;
    /// <summary>Measure the stack as it is, seeding nothing (a second look at a stack seeded before).</summary>
    public bool MeasureOnly { get; init; }
}

/// <summary>
/// <c>./metering bench console</c>: seeds tenants, quotas (some tenants warned, some throttled) and a month of usage
/// through Kafka, then navigates headless Chromium (Debian's) to the Overview and Tenants pages again and again and
/// prints, per page, the time from navigation start to first content, to every panel's data rendered, and to
/// "interactive" (data rendered and then <see cref="QuietWindowMs"/> without a long task); beside them the same API
/// calls timed without the browser, a static file's navigation, and the app's JavaScript gzipped.
/// </summary>
public static class ConsoleBenchmark
{
    public const double QuietWindowMs = 500;
    public const double TargetMs = 1500;
    private const string TenantPrefix = "t";
    private static readonly string[] ChromiumArguments =
    [
        "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync",
    ];

    /// <summary>Runs before any page script: keeps every long task (≥ 50 ms on the main thread) the page has.</summary>
    private const string LongTaskObserver = """
        window.__longTasks = [];
        try {
          new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__longTasks.push([e.startTime, e.startTime + e.duration]); })
            .observe({ type: "longtask", buffered: true });
        } catch (e) { window.__longTasks = null; }
        """;

    /// <summary>
    /// The moment (ms since navigation start) from which no long task started within the quiet window, at or after
    /// `ready`; null while the window has not passed yet. Null as a whole when the browser reports no long tasks.
    /// </summary>
    private const string QuietSince = """
        ([ready, windowMs]) => {
          if (window.__longTasks === null) return [-1, performance.now()];
          let since = ready;
          for (const [start, end] of [...window.__longTasks].sort((a, b) => a[0] - b[0]))
            if (end > since && start < since + windowMs) since = end;
          return [since, performance.now()];
        }
        """;

    private const string FirstContent = "() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? -1";

    private const string OverviewReady = """
        () => {
          if (!document.querySelector('h1') || document.querySelector('.loading') || !document.querySelector('dl.figures')) return false;
          const captions = [...document.querySelectorAll('table[role=table] caption')].map(c => c.textContent);
          const has = (start) => captions.some(c => c.startsWith(start)) || document.querySelectorAll('[role=alert]').length > 0;
          return has('Spend per UTC day') && has('Biggest tenants') && has('Biggest teams') && has('Biggest models') && has('Tenants Budgets knows');
        }
        """;

    private const string TenantsReady = """
        () => document.querySelector('h1') && !document.querySelector('.loading')
          && (document.querySelectorAll('table[role=table] tbody tr[aria-rowindex]').length > 0 || document.querySelectorAll('[role=alert]').length > 0)
          && !document.querySelector('table[role=table] tbody tr[aria-busy]')
        """;

    private const string TenantsComplete = """
        () => [...document.querySelectorAll('[role=status]')].some(s => /^[0-9,]+ tenants?$/.test(s.textContent.trim()))
        """;

    public static async Task<int> RunAsync(ConsoleBenchmarkOptions options, TextWriter output, BenchmarkSummary summary, CancellationToken ct)
    {
        var startLoad = LoadAverage.Read();
        output.WriteLine($"bench console: {options.Tenants:N0} tenants, {options.Events:N0} usage events over the last {options.Days} days through Kafka, " +
            $"{options.Teams} teams; {options.Runs} measured navigations per page; load average at start {startLoad}");
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(5) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.AdminToken);
        var now = DateTimeOffset.UtcNow;
        var seeded = options.MeasureOnly
            ? $"nothing seeded by this run; the stack as it was: {(await GetAsync(http, new Uri(options.Budgets, "/v1/tenants/counts"), ct)).ToJsonString()}"
            : await SeedAsync(options, http, now, output, ct);

        var today = now.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var period = now.ToString("yyyy-MM", CultureInfo.InvariantCulture);
        var previous = now.AddMonths(-1).ToString("yyyy-MM", CultureInfo.InvariantCulture);
        output.WriteLine("");
        output.WriteLine("== the pages' API calls without the browser (ms, each call alone; then a page's calls all at once, as the page sends them) ==");
        var overviewNow = OverviewCalls(options, period, $"{period}-01", today, MonthEnd(period));
        var overviewBefore = OverviewCalls(options, previous, $"{previous}-01", MonthEnd(previous).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), MonthEnd(previous));
        var tenantCalls = await TenantCallsAsync(options, http, period, $"{period}-01", today, ct);
        foreach (var call in overviewNow.Concat(overviewBefore.Where(c => !overviewNow.Any(n => n.Uri == c.Uri))).Concat(tenantCalls.Single))
            await TimeAsync(http, call.Name, [call], options.Runs, output, ct);
        await TimeAsync(http, $"Overview {period}: its 6 calls at once", overviewNow, options.Runs, output, ct);
        await TimeAsync(http, $"Overview {previous}: its 6 calls at once", overviewBefore, options.Runs, output, ct);
        await TimeAsync(http, "Tenants: first page, every tenant's month to date, 30 rows' forecasts, 6 at a time", tenantCalls.FirstScreen, options.Runs, output, ct, concurrency: 6);
        await TimeAsync(http, $"Tenants: every page of the list ({tenantCalls.Pages.Count} requests, in turn)", tenantCalls.Pages, options.Runs, output, ct, concurrency: 1);
        output.WriteLine("-- what the pages asked before this change, for comparison (3 runs) --");
        await TimeAsync(http, $"spend by tenant, {period} to date (the old per-page call)",
            [new Call("", new Uri(options.Billing, $"/v1/spend?from={period}-01&to={today}&group_by=tenant&granularity=month"))], 3, output, ct);
        await TimeAsync(http, $"spend by tenant, {previous} to its last day but one (a partial month)",
            [new Call("", new Uri(options.Billing, $"/v1/spend?from={previous}-01&to={MonthEnd(previous).AddDays(-1):yyyy-MM-dd}&group_by=tenant&granularity=month"))], 3, output, ct);
        await TimeStatusPagingAsync(options, http, output, ct);

        output.WriteLine("");
        output.WriteLine($"== the pages in headless Chromium ({options.Runs} navigations each after one warm-up; ms from navigation start) ==");
        output.WriteLine($"interactive = every panel's data rendered (no loading state; on Tenants every rendered row's spend and forecast), then {QuietWindowMs:F0} ms without a long task (≥ 50 ms)");
        var pages = await BrowseAsync(options, period, previous, output, summary);

        var (raw, gzipped) = JavaScriptSize(options.Dist);
        var endLoad = LoadAverage.Read();
        output.WriteLine("");
        output.WriteLine("== summary ==");
        output.WriteLine($"seeded: {seeded}");
        foreach (var page in pages) output.WriteLine(page);
        output.WriteLine($"JavaScript: {raw / 1024.0:F1} KB, {gzipped / 1024.0:F1} KB gzipped (budget 250 KB gzipped: {(gzipped <= 250 * 1024 ? "met" : "MISSED")})");
        output.WriteLine($"load average: at start {startLoad}, at end {endLoad} (2 cores; the machine is shared)");
        summary.Add("javascript gzipped", gzipped / 1024.0, "KB", "F1");
        summary.Add("load average at start", startLoad);
        summary.Add("load average at end", endLoad);
        return 0;
    }

    private static DateOnly MonthEnd(string period) =>
        DateOnly.ParseExact(period + "-01", "yyyy-MM-dd", CultureInfo.InvariantCulture).AddMonths(1).AddDays(-1);


    // ---- seeding ----

    private static async Task<string> SeedAsync(ConsoleBenchmarkOptions options, HttpClient http, DateTimeOffset now, TextWriter output, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var tenants = Enumerable.Range(1, options.Tenants).Select(i => $"{TenantPrefix}{i:D3}").ToArray();
        var firstDay = DateOnly.FromDateTime(now.UtcDateTime).AddDays(-options.Days - 1);
        using var api = MeteringClient.Create(o => (o.Budgets, o.Billing, o.Token) = (options.Budgets, options.Billing, options.AdminToken));
        var prices = new List<RateCardPriceView>();
        foreach (var (model, gpuType) in FleetProfile.Items)
        {
            prices.Add(new(Meters.InputTokens, model, null, "0.60"));
            prices.Add(new(Meters.OutputTokens, model, null, "2.40"));
            prices.Add(new(Meters.CachedInputTokens, model, null, "0.30"));
            prices.Add(new(Meters.GpuSeconds, null, gpuType, "0.0011"));
        }
        await SeedAsync(() => api.Billing.PutRateCardAsync(new RateCardRequest("USD", firstDay, [.. prices.Distinct()]), ct), ct);
        for (var t = 1; t <= options.Teams; t++)
        {
            var team = t;
            await SeedAsync(() => api.Billing.PutTeamAsync($"team-{team:D2}", new TeamRequest($"Team {team}", $"CC-{team:D3}"), ct), ct);
        }
        // Status by index: 2 % warned (a day's use past the soft 50 %), 1 % throttled (past the limit), 5 % with a quota they are well under.
        string? Status(int i) => (i % 100) switch { 7 or 8 => "warning", 13 => "throttled", >= 21 and <= 25 => "ok", _ => null };
        await Parallel.ForEachAsync(Enumerable.Range(1, options.Tenants), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct }, async (i, token) =>
        {
            var tenant = tenants[i - 1];
            if (options.Teams > 0)
                await SeedAsync(() => api.Billing.PutTenantTeamAsync(tenant, $"team-{i % options.Teams + 1:D2}", token), token);
            if (Status(i) is not null)
                await SeedAsync(() => api.Budgets.PutQuotaAsync(tenant,
                    new QuotaRequest([new QuotaLimit(Meters.OutputTokens, Periods.Day, 1_000_000, 50, Enforcements.Throttle)]), ct: token), token);
        });
        output.WriteLine($"rate card, {options.Teams} teams, tenants mapped to them and quotas set in {clock.Elapsed.TotalSeconds:F1} s");

        clock.Restart();
        var sent = new Dictionary<string, decimal>(StringComparer.Ordinal);
        var random = new Random(options.Seed);
        var profile = new FleetProfile(options.Tenants, TenantPrefix, options.Seed);
        var run = Guid.NewGuid().ToString("N")[..8];
        var span = TimeSpan.FromDays(options.Days) - TimeSpan.FromMinutes(5);
        await using (var emitter = new UsageEmitter(new UsageEmitterOptions { BootstrapServers = options.Bootstrap, ClientId = "metering-bench-console" }))
        {
            async Task Emit(UsageEvent usage)
            {
                await emitter.EmitAsync(usage, ct);
                sent[usage.Meter] = sent.GetValueOrDefault(usage.Meter) + usage.Quantity;
            }
            // Every tenant has usage, so Budgets and Billing both know all of them; the warned and throttled ones get
            // today's use that puts them there.
            for (var i = 1; i <= options.Tenants; i++)
            {
                var tenant = tenants[i - 1];
                await Emit(new UsageEvent($"{run}-known-{i}", tenant, Meters.InputTokens, 100, now - span * random.NextDouble(), FleetProfile.Items[0].Model, null, "chat-api"));
                var used = Status(i) switch { "warning" => 600_000, "throttled" => 1_200_000, _ => 0 };
                if (used > 0) await Emit(new UsageEvent($"{run}-status-{i}", tenant, Meters.OutputTokens, used, now.AddMinutes(-2), FleetProfile.Items[1].Model, null, "chat-api"));
            }
            long events = 0;
            for (var request = 0L; events < options.Events; request++)
                foreach (var usage in profile.Request($"{run}-{request}", now - TimeSpan.FromMinutes(3) - span * random.NextDouble()))
                {
                    await Emit(usage);
                    events++;
                }
            await emitter.FlushAsync(ct);
        }
        var total = sent.Values.Count;
        output.WriteLine($"usage produced to Kafka in {clock.Elapsed.TotalSeconds:F1} s");

        clock.Restart();
        var from = firstDay.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var to = DateOnly.FromDateTime(now.UtcDateTime).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(40);
        var (lastSum, lastChange) = (-1m, DateTime.UtcNow);
        while (true)
        {
            var spend = await GetAsync(http, new Uri(options.Billing, $"/v1/spend?from={from}&to={to}&group_by=meter&granularity=month"), ct);
            var counted = spend["series"]!.AsArray().ToDictionary(s => s!["key"]!.GetValue<string>(),
                s => s!["points"]!.AsArray().Sum(p => decimal.Parse(p!["quantity"]!.ToString(), CultureInfo.InvariantCulture)));
            if (sent.All(m => counted.GetValueOrDefault(m.Key) == m.Value)) break;
            if (DateTime.UtcNow > deadline) throw new TimeoutException("Billing did not count the seeded usage within 40 minutes");
            var sum = counted.Values.Sum();
            if (sum != lastSum) (lastSum, lastChange) = (sum, DateTime.UtcNow);
            else if (DateTime.UtcNow - lastChange > TimeSpan.FromSeconds(90))
            {
                output.WriteLine($"Billing's count stopped growing short of what was produced (counted {sum:N0} of {sent.Values.Sum():N0} units): measuring what it has");
                break;
            }
            await Task.Delay(2000, ct);
        }
        output.WriteLine($"Billing counted every event {clock.Elapsed.TotalSeconds:F1} s after the last was produced");
        var expected = (Warning: Enumerable.Range(1, options.Tenants).Count(i => Status(i) == "warning"), Throttled: Enumerable.Range(1, options.Tenants).Count(i => Status(i) == "throttled"));
        JsonNode counts;
        while (true)
        {
            counts = await GetAsync(http, new Uri(options.Budgets, "/v1/tenants/counts"), ct);
            if ((int)counts["tenants"]! == options.Tenants && (int)counts["warning"]! == expected.Warning && (int)counts["throttled"]! == expected.Throttled) break;
            if (DateTime.UtcNow > deadline || DateTime.UtcNow - lastChange > TimeSpan.FromMinutes(3))
            {
                output.WriteLine($"Budgets did not reach the expected statuses: {counts.ToJsonString()}");
                break;
            }
            await Task.Delay(2000, ct);
        }
        output.WriteLine($"Budgets: {counts.ToJsonString()} ({clock.Elapsed.TotalSeconds:F1} s after the last event was produced)");
        return $"{options.Tenants:N0} tenants ({counts.ToJsonString()}), {options.Events:N0} fleet events + {options.Tenants:N0} one per tenant over {options.Days} days, {total} meters";
    }

    /// <summary>
    /// A seeding change, tried up to 5 times while the fresh stack answers 5xx: the client repeats no change by itself,
    /// and on a fresh database a repeat of these (a team, a mapping, a quota, the one rate-card version) is harmless.
    /// </summary>
    private static async Task SeedAsync<T>(Func<Task<T>> change, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await change();
                return;
            }
            catch (MeteringApiException refused) when ((int)refused.StatusCode >= 500 && attempt < 5)
            {
                await Task.Delay(200 * attempt, ct);
            }
        }
    }

    private static async Task<JsonNode> GetAsync(HttpClient http, Uri uri, CancellationToken ct)
    {
        using var response = await http.GetAsync(uri, ct);
        var body = await response.Content.ReadAsStringAsync(ct);
        if (response.StatusCode != HttpStatusCode.OK) throw new InvalidOperationException($"GET {uri}: {(int)response.StatusCode} {body}");
        return JsonNode.Parse(body)!;
    }

    // ---- the API calls alone ----

    private sealed record Call(string Name, Uri Uri);

    private static List<Call> OverviewCalls(ConsoleBenchmarkOptions o, string period, string from, string to, DateOnly monthEnd) =>
    [
        new($"forecast {period}", new Uri(o.Billing, $"/v1/forecast/{period}")),
        new($"spend {period} by team per day", new Uri(o.Billing, $"/v1/spend?from={from}&to={to}&group_by=team&granularity=day")),
        new($"spend {period} by tenant, whole month (invoices)", new Uri(o.Billing, $"/v1/spend?from={from}&to={monthEnd:yyyy-MM-dd}&group_by=tenant&granularity=month")),
        new($"spend {period} by team", new Uri(o.Billing, $"/v1/spend?from={from}&to={to}&group_by=team&granularity=month")),
        new($"spend {period} by model", new Uri(o.Billing, $"/v1/spend?from={from}&to={to}&group_by=model&granularity=month")),
        new("tenant counts", new Uri(o.Budgets, "/v1/tenants/counts")),
    ];

    private sealed record TenantCalls(List<Call> Single, List<Call> FirstScreen, List<Call> Pages);

    private static async Task<TenantCalls> TenantCallsAsync(ConsoleBenchmarkOptions o, HttpClient http, string period, string from, string today, CancellationToken ct)
    {
        var first = new Call("tenant list, first page (100)", new Uri(o.Budgets, "/v1/tenants?limit=100"));
        var page = await GetAsync(http, first.Uri, ct);
        var rows = page["tenants"]!.AsArray().Take(30).Select(t => t!["tenant"]!.GetValue<string>()).ToList();
        // The page's month to date for every tenant in one call, then each rendered row's forecast.
        var monthToDate = new Call("every tenant's month-to-date spend (one call)", new Uri(o.Billing, $"/v1/spend?from={from}&to={today}&group_by=tenant&granularity=month"));
        var perRow = rows.Select(t => new Call($"forecast of {t}", new Uri(o.Billing, $"/v1/forecast/{period}?tenant={t}"))).ToList();
        var pages = new List<Call> { first };
        var cursor = page["next_cursor"]?.GetValue<string>();
        var size = 100;
        while (cursor is not null)
        {
            var call = new Call("tenant list, a page of 1,000", new Uri(o.Budgets, $"/v1/tenants?limit=1000&cursor={Uri.EscapeDataString(cursor)}"));
            pages.Add(call);
            var next = await GetAsync(http, call.Uri, ct);
            size += next["tenants"]!.AsArray().Count;
            cursor = next["next_cursor"]?.GetValue<string>();
        }
        return new TenantCalls([first, monthToDate, perRow[0] with { Name = "one tenant's forecast" }, pages[^1]],
            [first, monthToDate, .. perRow], pages);
    }

    private static async Task TimeAsync(HttpClient http, string name, IReadOnlyList<Call> calls, int runs, TextWriter output, CancellationToken ct, int concurrency = int.MaxValue)
    {
        var times = new List<double>();
        for (var run = 0; run < runs; run++)
        {
            var clock = Stopwatch.StartNew();
            using var gate = new SemaphoreSlim(Math.Min(concurrency, calls.Count));
            await Task.WhenAll(calls.Select(async call =>
            {
                await gate.WaitAsync(ct);
                try
                {
                    using var response = await http.GetAsync(call.Uri, HttpCompletionOption.ResponseContentRead, ct);
                    if (response.StatusCode != HttpStatusCode.OK) throw new InvalidOperationException($"GET {call.Uri}: {(int)response.StatusCode}");
                }
                finally
                {
                    gate.Release();
                }
            }));
            times.Add(clock.Elapsed.TotalMilliseconds);
        }
        output.WriteLine($"{name,-72} {Stats(times)}");
    }

    private static async Task TimeStatusPagingAsync(ConsoleBenchmarkOptions o, HttpClient http, TextWriter output, CancellationToken ct)
    {
        var times = new List<double>();
        for (var run = 0; run < 3; run++)
        {
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(new[] { "ok", "warning", "throttled" }.Select(async status =>
            {
                string? cursor = null;
                do
                {
                    var page = await GetAsync(http, new Uri(o.Budgets, $"/v1/tenants?status={status}&limit=1000{(cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}")}"), ct);
                    cursor = page["next_cursor"]?.GetValue<string>();
                } while (cursor is not null);
            }));
            times.Add(clock.Elapsed.TotalMilliseconds);
        }
        output.WriteLine($"{"statuses counted by paging the list 1,000 at a time (the old Overview)",-72} {Stats(times)}");
    }

    private static string Stats(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? "no runs" : $"p50 {Percentile.Of(sorted, 50),7:F0}  p95 {Percentile.Of(sorted, 95),7:F0}  max {sorted[^1],7:F0}";
    }

    // ---- the browser ----

    private sealed record PageRun(double FirstContent, double Ready, double Interactive, double Complete, bool Error);

    private static async Task<List<string>> BrowseAsync(ConsoleBenchmarkOptions options, string period, string previous, TextWriter output, BenchmarkSummary summary)
    {
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium", Headless = true, Args = ChromiumArguments,
        });
        await using var context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = options.Console.ToString(), ViewportSize = new ViewportSize { Width = 1280, Height = 900 }, TimezoneId = "UTC", Locale = "en-US",
        });
        await context.AddInitScriptAsync(LongTaskObserver);
        context.SetDefaultTimeout(120_000);
        var page = await context.NewPageAsync();
        var errors = new List<string>();
        page.Console += (_, message) => { if (message.Type == "error") lock (errors) errors.Add(message.Text); };
        // The console message of a failed request does not name it: the responses do.
        page.Response += (_, response) => { if (response.Status >= 400) lock (errors) errors.Add($"{response.Status} {response.Request.Method} {response.Url}"); };
        await page.GotoAsync("/sign-in");
        await page.FillAsync("#token", options.AdminToken);
        await page.ClickAsync("button[type=submit]");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).WaitForAsync();

        var targets = new (string Name, string Path, string Ready, string? Complete)[]
        {
            ($"Overview {period} (month to date)", "/", OverviewReady, null),
            ($"Overview {previous} (a whole month)", $"/?period={previous}", OverviewReady, null),
            ("Tenants (all, virtualised)", "/tenants", TenantsReady, TenantsComplete),
        };
        var runs = targets.ToDictionary(t => t.Name, _ => new List<PageRun>());
        for (var round = 0; round <= options.Runs; round++)
            foreach (var target in targets)
            {
                var measured = await NavigateAsync(page, target.Path, target.Ready, target.Complete);
                if (round > 0) runs[target.Name].Add(measured);
            }

        // A static file through the same host, for the floor a navigation costs here.
        var statics = new List<double>();
        for (var round = 0; round <= options.Runs; round++)
        {
            await page.GotoAsync("/favicon.svg", new PageGotoOptions { WaitUntil = WaitUntilState.Load });
            var duration = await page.EvaluateAsync<double>("() => performance.getEntriesByType('navigation')[0]?.duration ?? -1");
            if (round > 0) statics.Add(duration);
        }

        var lines = new List<string>();
        output.WriteLine($"{"page",-40} {"first content",-34} {"data rendered",-34} {"interactive",-34}");
        foreach (var target in targets)
        {
            var r = runs[target.Name];
            var line = $"{target.Name,-40} {Stats(r.Select(x => x.FirstContent).ToList()),-34} {Stats(r.Select(x => x.Ready).ToList()),-34} {Stats(r.Select(x => x.Interactive).ToList()),-34}";
            var p95 = Percentile.Of(r.Select(x => x.Interactive).Order().ToList(), 95);
            var figure = target.Name.Replace(":", " -", StringComparison.Ordinal);
            summary.Add($"{figure} interactive p50", Percentile.Of(r.Select(x => x.Interactive).Order().ToList(), 50), "ms");
            summary.Add($"{figure} interactive p95", p95, "ms");
            line += $" target {TargetMs:F0} ms at p95: {(p95 <= TargetMs ? "met" : "MISSED")}";
            if (r.Any(x => x.Error)) line += $"; {r.Count(x => x.Error)} showed an API error";
            if (target.Complete is not null) line += $"; every row listed: {Stats(r.Select(x => x.Complete).ToList())}";
            output.WriteLine(line);
            lines.Add(line);
        }
        var staticLine = $"{"static file (/favicon.svg) navigation",-40} {Stats(statics)}";
        output.WriteLine(staticLine);
        lines.Add(staticLine);
        if (errors.Count > 0) output.WriteLine($"console errors and failed requests in the browser: {errors.Count}: {string.Join("; ", errors.Distinct().Take(5))}");
        return lines;
    }

    private static async Task<PageRun> NavigateAsync(IPage page, string path, string ready, string? complete)
    {
        await page.GotoAsync(path, new PageGotoOptions { WaitUntil = WaitUntilState.Commit });
        await page.WaitForFunctionAsync(ready, null, new PageWaitForFunctionOptions { PollingInterval = 10 });
        var readyAt = await page.EvaluateAsync<double>("() => performance.now()");
        var error = await page.Locator("[role=alert]").CountAsync() > 0;
        double interactive;
        while (true)
        {
            var quiet = await page.EvaluateAsync<double[]>(QuietSince, new object[] { readyAt, QuietWindowMs });
            if (quiet[0] < 0) throw new InvalidOperationException("this Chromium reports no long tasks (PerformanceObserver 'longtask')");
            if (quiet[1] >= quiet[0] + QuietWindowMs)
            {
                interactive = quiet[0];
                break;
            }
            await Task.Delay(50);
        }
        var completeAt = readyAt;
        if (complete is not null)
        {
            await page.WaitForFunctionAsync(complete, null, new PageWaitForFunctionOptions { PollingInterval = 10 });
            completeAt = await page.EvaluateAsync<double>("() => performance.now()");
        }
        var firstContent = await page.EvaluateAsync<double>(FirstContent);
        return new PageRun(firstContent, readyAt, interactive, completeAt, error);
    }

    private static (long Raw, long Gzipped) JavaScriptSize(string dist)
    {
        long raw = 0, gzipped = 0;
        foreach (var file in Directory.EnumerateFiles(Path.Combine(dist, "assets"), "*.js"))
        {
            var bytes = File.ReadAllBytes(file);
            raw += bytes.Length;
            using var buffer = new MemoryStream();
            using (var gzip = new GZipStream(buffer, CompressionLevel.SmallestSize, leaveOpen: true)) gzip.Write(bytes);
            gzipped += buffer.Length;
        }
        return (raw, gzipped);
    }
}
