using static Metering.EndToEndTests.ConsolePages;

namespace Metering.EndToEndTests;

/// <summary>
/// The console in headless Chromium against the real stack: sign-in and where the token is not, the Overview, the spend
/// explorer with its CSV, the tenant list and page, and a viewer who sees only its team. Each test compares what the page
/// shows with what the API answers for the same view, and finds no console error beyond the responses it expects.
/// The system is the console's own: the Overview shows the whole platform's month, so only the console's browser test
/// classes add to it, each with tenants of its own (the other pages: <see cref="ConsoleAdminBrowserTests"/>, <see cref="ConsoleBillingBrowserTests"/>).
/// </summary>
[Collection(ConsoleSystemCollection.Name)]
public sealed class ConsoleBrowserTests(ConsoleMeteringSystem system, ConsoleBrowser browser) : SeededBrowserTests<ConsoleBrowserTests.Seeded>
{
    private static readonly string NlpViewer = MeteringSystem.ViewerTokens[Nlp];
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;
    private static readonly string Today = Now.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
    private static readonly string Period = Now.ToString("yyyy-MM", CultureInfo.InvariantCulture);
    private static readonly string MonthStart = $"{Period}-01";

    /// <summary>The usage every test reads, recorded once per system (the first test to run seeds it).</summary>
    public sealed record Seeded(string Chat, string Camera, string Model);

    [Fact]
    public async Task Sign_in_refuses_a_wrong_token_with_its_message_keeps_the_token_out_of_the_page_and_sign_out_returns_to_sign_in()
    {
        var page = await browser.NewPageAsync(system);
        await page.GotoAsync("/");
        await AtAsync(page, "/sign-in");
        await ConsoleBrowser.CheckedScreenshotAsync(page, "sign-in");

        // The host's answer to that token, as the page must show it.
        using var refused = await system.Http.PostAsync(new Uri(browser.Url, "/auth/sign-in"),
            new StringContent("""{"token":"not-a-known-token"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        var title = JsonNode.Parse(await refused.Content.ReadAsStringAsync())!["title"]!.GetValue<string>();
        await page.FillAsync("#token", "not-a-known-token");
        await page.ClickAsync("button[type=submit]");
        var problem = page.Locator("#sign-in-problem [role=alert]");
        await problem.WaitForAsync();
        Assert.Contains(title, await problem.InnerTextAsync());
        Assert.Contains("(401)", await problem.InnerTextAsync());
        Assert.EndsWith("/sign-in", new Uri(page.Url).AbsolutePath);
        await ConsoleBrowser.ScreenshotAsync(page, "sign-in-refused");

        await SignInAsync(page, MeteringSystem.AdminToken);
        var kept = await page.EvaluateAsync<string>(
            "() => JSON.stringify({ cookie: document.cookie, local: Object.entries(localStorage), session: Object.entries(sessionStorage) })");
        Assert.DoesNotContain(MeteringSystem.AdminToken, kept);
        Assert.DoesNotContain(MeteringSystem.AdminToken, await page.ContentAsync());
        Assert.DoesNotContain(MeteringSystem.AdminToken, page.Url);
        // The session cookie exists, but page scripts cannot read it.
        var cookie = Assert.Single(await page.Context.CookiesAsync(), c => c.Name == "metering.session");
        Assert.True(cookie.HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, cookie.SameSite);

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await AtAsync(page, "/sign-in");
        Assert.Equal("Sign in to Metering", await page.Locator("h1").InnerTextAsync());
        await page.GotoAsync("/spend");
        await AtAsync(page, "/sign-in?next=%2Fspend");
        Assert.DoesNotContain(await page.Context.CookiesAsync(), c => c.Name == "metering.session");

        // Exactly the refusals this test caused: the wrong token, and the session read while signed out.
        browser.AssertNoErrorsBut(e => e.IsFailedResponse(401, "/auth/sign-in") || e.IsFailedResponse(401, "/auth/session"));
    }

    [Fact]
    public async Task Signing_out_while_a_page_loads_cancels_its_requests_so_none_is_refused_after_the_session_ended()
    {
        var page = await browser.SignedInPageAsync(system);
        // The next page's API requests are held, so they are still in flight when the admin signs out.
        var held = new List<IRoute>();
        await page.RouteAsync("**/api/**", route =>
        {
            lock (held) held.Add(route);
            return Task.CompletedTask;
        });
        var settled = 0;
        void Settle(object? sender, IRequest request)
        {
            if (request.Url.Contains("/api/", StringComparison.Ordinal)) Interlocked.Increment(ref settled);
        }
        page.RequestFinished += Settle;
        page.RequestFailed += Settle;
        // The host ends the session first; only then do the held requests go on, before the page hears the sign-out's answer.
        await page.RouteAsync("**/auth/sign-out", async route =>
        {
            var ended = await route.FetchAsync();
            foreach (var request in held.ToList())
            {
                try
                {
                    await request.ContinueAsync();
                }
                catch (PlaywrightException)
                {
                    // Cancelled by the page as it went: nothing left to send.
                }
            }
            await WaitForAsync(() => Task.FromResult(Volatile.Read(ref settled) >= held.Count));
            await route.FulfillAsync(new() { Response = ended });
        });
        await page.GotoAsync("/month-close");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).WaitForAsync();
        await WaitForAsync(() => Task.FromResult(held.Count >= 2));

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await AtAsync(page, "/sign-in");
        Assert.DoesNotContain(await page.Context.CookiesAsync(), c => c.Name == "metering.session");
        await page.UnrouteAllAsync(new() { Behavior = UnrouteBehavior.IgnoreErrors });
        await OneH1Async(page);
        // The page's requests were cancelled when it went, so the host refused none of them.
        browser.AssertNoErrorsBut(_ => false);
    }

    [Fact]
    public async Task The_Overview_shows_the_spend_API_per_day_and_the_forecast_API_each_with_one_h1_and_a_table_under_every_chart()
    {
        var page = await browser.SignedInPageAsync(system);
        await page.GotoAsync("/");
        var perDay = await TableAsync(page, "Spend per UTC day");
        var forecast = await system.Api(system.Billing, $"/v1/forecast/{Period}");
        var spend = await system.Api(system.Billing, $"/v1/spend?from={MonthStart}&to={Today}&group_by=team&granularity=day");

        var expectedDays = spend["series"]!.AsArray()
            .SelectMany(s => s!["points"]!.AsArray())
            .GroupBy(p => p!["date"]!.GetValue<string>())
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new[] { g.Key, Money(g.Sum(p => Decimal(p!["cost"]))) })
            .ToList();
        Assert.NotEmpty(expectedDays);
        Assert.Equal(expectedDays, perDay);

        var figures = await FiguresAsync(page);
        Assert.Equal(Money(Decimal(forecast["actual"])), figures["Month to date"]);
        Assert.Equal(Money(Decimal(spend["total"])), figures["Month to date"]);
        Assert.Equal(forecast["forecast"] is null ? "none yet" : Money(Decimal(forecast["forecast"])), figures["Month-end forecast"]);
        var band = forecast["low"] is null || forecast["high"] is null ? "—" : $"{Money(Decimal(forecast["low"]))} – {Money(Decimal(forecast["high"]))}";
        Assert.Equal(band, Assert.Single(figures, f => f.Key.EndsWith("interval", StringComparison.Ordinal)).Value);
        var forecastDays = forecast["days"]!.AsArray()
            .Select(d => new[] { d!["date"]!.GetValue<string>(), MoneyOf(d["actual"]), MoneyOf(d["forecast"]), MoneyOf(d["low"]), MoneyOf(d["high"]) })
            .ToList();
        Assert.Equal(forecastDays, await TableAsync(page, $"Spend of {Period}: cumulative spend per UTC day"));

        // Every chart (a uPlot canvas) has a data table beside it in the same section.
        await page.Locator("section canvas").Nth(1).WaitForAsync();
        var charts = await page.Locator("section:has(canvas)").CountAsync();
        Assert.True(charts >= 2, $"{charts} charts on the Overview");
        Assert.Equal(charts, await page.Locator("section:has(canvas):has(table[role=table])").CountAsync());
        await browser.AssertFinishedAsync(page, "overview");
    }

    [Fact]
    public async Task A_spend_view_set_by_URL_shows_the_APIs_numbers_and_its_CSV_equals_the_table()
    {
        var page = await browser.SignedInPageAsync(system);
        var query = $"group_by=team&granularity=day&from={MonthStart}&to={Today}&model={Data.Model}";
        await page.GotoAsync($"/spend?{query}");
        var table = await TableAsync(page, "Spend by team per day");
        var spend = await system.Api(system.Billing, $"/v1/spend?{query}");
        var expected = spend["series"]!.AsArray()
            .OrderByDescending(s => s!["points"]!.AsArray().Sum(p => Decimal(p!["cost"])))
            .SelectMany(s => s!["points"]!.AsArray().Select(p => new[]
            {
                s["key"]?.GetValue<string>() ?? "(none)", p!["date"]!.GetValue<string>(), Quantity(p["quantity"]), Money(Decimal(p["cost"])),
            }))
            .ToList();
        Assert.Equal(2, expected.Count); // the two seeded teams, today
        Assert.Equal(expected, table);
        Assert.Equal([Vision, Nlp], table.Select(r => r[0]));
        Assert.Contains(Money(Decimal(spend["total"])), await page.Locator("#result-heading").InnerTextAsync());

        var download = await page.RunAndWaitForDownloadAsync(() =>
            page.GetByRole(AriaRole.Button, new() { Name = "Download CSV of this view" }).ClickAsync());
        var csv = await File.ReadAllTextAsync(await download.PathAsync());
        var lines = csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(',')).ToList();
        Assert.Equal(["group", "date (UTC)", "quantity", "cost"], lines[0]);
        // The CSV holds the table's rows with plain numbers: no grouping commas, no currency sign, an empty cell for "—".
        static string Plain(string cell) => cell == "—" ? "" : cell.TrimStart('$').Replace(",", "");
        Assert.Equal(table.Select(r => new[] { r[0], r[1], Plain(r[2]), Plain(r[3]) }).ToList(), lines.Skip(1).ToList());
        await browser.AssertFinishedAsync(page, "spend-explorer");
    }

    [Fact]
    public async Task The_tenant_list_shows_a_tenants_status_and_its_page_the_limits_of_the_budget_API()
    {
        var page = await browser.SignedInPageAsync(system);
        await page.GotoAsync($"/tenants?q={Data.Chat}");
        // The list is virtualised: a row is read once its per-row spend and forecast have loaded (no longer aria-busy).
        await page.Locator("table[role=table] tbody tr[aria-rowindex]:not([aria-busy])").First.WaitForAsync();
        var list = await TableAsync(page, "Tenants");
        var listed = (await system.Api(system.Budgets, $"/v1/tenants?q={Data.Chat}"))["tenants"]!.AsArray().Single()!;
        var row = Assert.Single(list);
        Assert.Equal([Data.Chat, listed["status"]!.GetValue<string>(), listed["limits"]!.ToJsonString()], row[..3]);
        var monthToDate = await system.Api(system.Billing, $"/v1/spend?from={MonthStart}&to={Today}&tenant={Data.Chat}");
        Assert.Equal("$2.47", Money(Decimal(monthToDate["total"])));
        Assert.Equal(Money(Decimal(monthToDate["total"])), row[3]);
        var forecast = await system.Api(system.Billing, $"/v1/forecast/{Period}?tenant={Data.Chat}");
        Assert.Equal(forecast["forecast"] is null ? "none yet" : Money(Decimal(forecast["forecast"])), row[4]);
        await ConsoleBrowser.CheckedScreenshotAsync(page, "tenants");

        await page.GetByRole(AriaRole.Link, new() { Name = Data.Chat, Exact = true }).ClickAsync();
        await AtAsync(page, $"/tenants/{Data.Chat}");
        var limits = await TableAsync(page, "Limits now");
        var budget = await system.Api(system.Budgets, $"/v1/tenants/{Data.Chat}/budget");
        var expected = LimitRows(budget);
        Assert.Equal([Meters.OutputTokens, "month", "5,000,000", "1,234,567", "3,765,433", "80", "alert"], Assert.Single(expected));
        Assert.Equal(expected, limits.Select(r => r[..7]).ToList());
        Assert.Contains($"Status: {budget["status"]!.GetValue<string>()}", await page.Locator("main").InnerTextAsync());
        await browser.AssertFinishedAsync(page, "tenant");
    }

    [Fact]
    public async Task The_tenant_list_reads_every_page_but_renders_only_the_rows_in_view_each_with_the_APIs_spend_from_one_call_and_its_forecast()
    {
        // More tenants than the first page (100) and one more page (1,000): three pages, read while the first is shown.
        var prefix = $"cv-{Guid.NewGuid():N}"[..11];
        var tenants = Enumerable.Range(0, 1_150).Select(i => $"{prefix}-{i:D4}").ToList();
        await Parallel.ForEachAsync(tenants, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (tenant, _) =>
            await system.Admin(system.Budgets, HttpMethod.Put, $"/v1/tenants/{tenant}/quota",
                new { limits = new[] { new { meter = Meters.InputTokens, period = "day", limit = 1_000, enforcement = "alert" } } }));
        var page = await browser.SignedInPageAsync(system);
        var spendCalls = new System.Collections.Concurrent.ConcurrentQueue<string>();
        page.Request += (_, request) =>
        {
            // Only the Tenants page's: sign-in lands on the Overview, which reads spend too.
            if (page.Url.Contains("/tenants", StringComparison.Ordinal) && request.Url.Contains("/api/billing/v1/spend", StringComparison.Ordinal))
                spendCalls.Enqueue(request.Url);
        };
        await page.GotoAsync($"/tenants?q={prefix}-");
        await page.GetByRole(AriaRole.Status).Filter(new() { HasTextString = "1,150 tenants" }).WaitForAsync();
        var counts = await system.Api(system.Budgets, $"/v1/tenants/counts?q={prefix}-");
        Assert.Equal(1_150, counts["tenants"]!.GetValue<int>());

        var table = page.Locator("table[role=table]");
        Assert.Equal("1151", await table.GetAttributeAsync("aria-rowcount"));
        var rendered = await table.Locator("tbody tr[aria-rowindex]").CountAsync();
        Assert.InRange(rendered, 10, 80);
        Assert.Equal(tenants[0], await table.Locator("tbody tr[aria-rowindex] td").First.InnerTextAsync());
        // Every rendered row's month to date is the spend API's for that tenant alone.
        await table.Locator("tbody tr[aria-rowindex]:not([aria-busy])").First.WaitForAsync();
        var shown = await table.Locator("tbody tr[aria-rowindex]:not([aria-busy])").EvaluateAllAsync<string[][]>(
            "rows => rows.map(r => [...r.cells].map(c => c.textContent.trim()))");
        Assert.NotEmpty(shown);
        foreach (var row in shown.Take(5))
        {
            var own = await system.Api(system.Billing, $"/v1/spend?from={MonthStart}&to={Today}&tenant={row[0]}&group_by=tenant&granularity=month");
            Assert.Equal(Money(Decimal(own["total"])), row[3]);
        }

        // Scrolled to the end, the last tenants are rendered, their month loaded from the APIs.
        await page.Locator(".virtual-table").EvaluateAsync("box => box.scrollTop = box.scrollHeight");
        var last = table.Locator("tbody tr[aria-rowindex='1151']");
        await last.WaitForAsync();
        await table.Locator("tbody tr[aria-rowindex='1151']:not([aria-busy])").WaitForAsync();
        var cells = await last.EvaluateAsync<string[]>("r => [...r.cells].map(c => c.textContent.trim())");
        var spend = await system.Api(system.Billing, $"/v1/spend?from={MonthStart}&to={Today}&tenant={tenants[^1]}&group_by=tenant&granularity=month");
        var forecast = await system.Api(system.Billing, $"/v1/forecast/{Period}?tenant={tenants[^1]}");
        Assert.Equal([tenants[^1], "ok", "1", Money(Decimal(spend["total"])), forecast["forecast"] is null ? "none yet" : Money(Decimal(forecast["forecast"]))], cells[..5]);
        Assert.InRange(await table.Locator("tbody tr[aria-rowindex]").CountAsync(), 10, 80);
        Assert.Equal(0, await table.Locator($"tbody tr[aria-rowindex] >> text={tenants[0]}").CountAsync());
        // Month to date for the whole list came from one spend request, not one per row.
        var call = Assert.Single(spendCalls);
        Assert.Contains("group_by=tenant", call, StringComparison.Ordinal);
        Assert.DoesNotContain("tenant=", call.Replace("group_by=tenant", "", StringComparison.Ordinal), StringComparison.Ordinal);
        await OneH1Async(page);
        browser.AssertNoErrorsBut(_ => false);
    }

    [Fact]
    public async Task A_viewer_sees_only_its_teams_data_and_no_other_teams_numbers_or_admin_pages_even_by_URL()
    {
        var page = await browser.NewPageAsync(system);
        await SignInAsync(page, NlpViewer);
        var camerasCost = Money(6.913578m);
        Assert.Equal("6.91", (await system.Api(system.Billing, $"/v1/spend?from={MonthStart}&to={Today}&tenant={Data.Camera}"))["total"]!.GetValue<string>());

        await page.GotoAsync("/");
        var perDay = await TableAsync(page, "Spend per UTC day");
        var own = await system.Api(system.Billing, $"/v1/spend?from={MonthStart}&to={Today}&group_by=team&granularity=day&team={Nlp}", NlpViewer);
        Assert.Equal([[Today, Money(Decimal(own["total"]))]], perDay);
        Assert.Equal(Money(2.469134m), perDay[0][1]);
        Assert.Equal($"Overview of team {Nlp}", await page.Locator("h1").InnerTextAsync());
        await AssertNothingOfVisionAsync(page, camerasCost);
        await ConsoleBrowser.ScreenshotAsync(page, "viewer-overview");

        // The admin pages are not offered, and opening them by URL shows nothing of anyone.
        Assert.Equal(0, await page.Locator("nav a", new() { HasTextString = "Tenants" }).CountAsync());
        await page.GotoAsync("/tenants");
        await page.Locator("h1").WaitForAsync();
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        await AssertNothingOfVisionAsync(page, camerasCost);
        Assert.DoesNotContain(Data.Chat, await page.ContentAsync());
        await ConsoleBrowser.CheckedScreenshotAsync(page, "viewer-tenants");
        await page.GotoAsync($"/tenants/{Data.Camera}");
        await page.Locator("h1").WaitForAsync();
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        Assert.DoesNotContain(camerasCost, await page.Locator("body").InnerTextAsync());
        Assert.DoesNotContain("7,777,777", await page.Locator("body").InnerTextAsync());
        Assert.Equal(0, await page.Locator("form button:not([type=button])").CountAsync());
        await ConsoleBrowser.CheckedScreenshotAsync(page, "viewer-other-tenant");

        // Another team's spend by URL: the API's refusal, not its numbers.
        await page.GotoAsync($"/spend?group_by=tenant&team={Vision}");
        var problem = page.Locator("[role=alert]");
        await problem.WaitForAsync();
        Assert.Contains("(403)", await problem.InnerTextAsync());
        await AssertNothingOfVisionAsync(page, camerasCost);
        await ConsoleBrowser.CheckedScreenshotAsync(page, "viewer-other-team");

        // The admin pages ask the APIs nothing for a viewer; the one refusal is the other team's spend.
        browser.AssertNoErrorsBut(e => e.IsFailedResponse(403, $"/api/billing/v1/spend?") && e.Location.Contains($"team={Vision}", StringComparison.Ordinal));
    }

    private async Task AssertNothingOfVisionAsync(IPage page, string camerasCost)
    {
        var html = await page.ContentAsync();
        Assert.DoesNotContain(Data.Camera, html);
        Assert.DoesNotContain(camerasCost, html);
        Assert.DoesNotContain("7,777,777", html);
    }

    /// <summary>
    /// Two teams under one parent, a tenant in each with a quota, both priced by a model of the run, and today's usage:
    /// chat 1,234,567 output tokens ($2.47 at $2 a million), camera 3,456,789 ($6.91). Waits until spend, forecast and
    /// budgets show all of it.
    /// </summary>
    protected override async Task<Seeded> SeedAsync()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var seeded = new Seeded($"cb-chat-{run}", $"cb-camera-{run}", $"cb-model-{run}");
        await system.Admin(system.Billing, HttpMethod.Put, $"/v1/teams/{Research}", new { name = "Research", cost_center = "CC-100" });
        await system.Admin(system.Billing, HttpMethod.Put, $"/v1/teams/{Nlp}", new { name = "Language", cost_center = "CC-110", parent = Research });
        await system.Admin(system.Billing, HttpMethod.Put, $"/v1/teams/{Vision}", new { name = "Vision", cost_center = "CC-120", parent = Research });
        await system.Admin(system.Billing, HttpMethod.Put, $"/v1/tenants/{seeded.Chat}/team", new { team = Nlp });
        await system.Admin(system.Billing, HttpMethod.Put, $"/v1/tenants/{seeded.Camera}/team", new { team = Vision });
        // Keeps the prices in effect that day (other console test classes price their own models on the same system).
        await new BillingRequests(system).AddPrice(seeded.Model, MonthStart, "2.00");
        await system.Admin(system.Budgets, HttpMethod.Put, $"/v1/tenants/{seeded.Chat}/quota",
            new { limits = new[] { new { meter = Meters.OutputTokens, period = "month", limit = 5_000_000, enforcement = "alert" } } });
        await system.Admin(system.Budgets, HttpMethod.Put, $"/v1/tenants/{seeded.Camera}/quota",
            new { limits = new[] { new { meter = Meters.OutputTokens, period = "month", limit = 7_777_777, enforcement = "alert" } } });
        var at = Now.AddSeconds(-1);
        UsageEvent[] usage =
        [
            new("c1", seeded.Chat, Meters.OutputTokens, 1_234_567, at, seeded.Model),
            new("v1", seeded.Camera, Meters.OutputTokens, 3_456_789, at, seeded.Model),
        ];
        await system.PostUsage(usage);

        // Tenant by tenant: the other console test classes may have added usage of their own tenants to the month.
        foreach (var (tenant, total) in new[] { (seeded.Chat, "2.47"), (seeded.Camera, "6.91") })
        {
            await WaitForAsync(async () => (await system.Api(system.Billing, $"/v1/spend?from={MonthStart}&to={Today}&tenant={tenant}"))["total"]!.GetValue<string>() == total);
            await WaitForAsync(async () => (await system.Api(system.Billing, $"/v1/forecast/{Period}?tenant={tenant}"))["actual"]!.GetValue<string>() == total);
        }
        await WaitForAsync(async () => (await system.Api(system.Budgets, $"/v1/tenants/{seeded.Chat}/budget"))["limits"]![0]!["used"]!.GetValue<decimal>() == 1_234_567m);
        return seeded;
    }
}

/// <summary>The console's own system: its Overview shows the whole platform's month, which only the console's browser tests add to.</summary>
public sealed class ConsoleMeteringSystem : MeteringSystem
{
    protected override bool ExportsTelemetry => false;
}

[CollectionDefinition(Name)]
public sealed class ConsoleSystemCollection : ICollectionFixture<ConsoleMeteringSystem>
{
    public const string Name = "console metering system";
}
