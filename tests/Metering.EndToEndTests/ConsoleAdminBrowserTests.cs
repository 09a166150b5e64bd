using static Metering.EndToEndTests.ConsolePages;

namespace Metering.EndToEndTests;

/// <summary>
/// The console's admin pages in headless Chromium against the real stack: the quota editor (a field error on its input,
/// then a valid save and the quota history), rate-card versions and a diff between two, the team tree with a cycle
/// refused, and the alerts. Each page is compared with the API's answer for the same view. Seeds tenants, teams and
/// prices of its own on the console's system (<see cref="ConsoleBrowserTests"/>).
/// </summary>
[Collection(ConsoleSystemCollection.Name)]
public sealed class ConsoleAdminBrowserTests(ConsoleMeteringSystem system, ConsoleBrowser browser) : SeededBrowserTests<ConsoleAdminBrowserTests.Seeded>
{
    private static readonly string MonthStart = DateTimeOffset.UtcNow.ToString("yyyy-MM-01", CultureInfo.InvariantCulture);

    /// <summary>The run's tenants (one with a quota to edit, one with alerts), three teams in a line, and the two rate-card versions it added.</summary>
    public sealed record Seeded(string Quota, string Alerted, string Platform, string Ml, string Nlp, int Before, int After);

    [Fact]
    public async Task The_quota_editor_shows_the_APIs_field_error_on_its_input_changes_nothing_then_saves_and_lists_the_change_in_the_history()
    {
        var page = await browser.SignedInPageAsync(system);
        await page.GotoAsync($"/tenants/{Data.Quota}");
        var limit = page.Locator("#quota-0-limit");
        await limit.WaitForAsync();
        Assert.Equal("1000", await limit.InputValueAsync());
        var before = (await system.Api(system.Budgets, $"/v1/tenants/{Data.Quota}/budget"))["limits"]!.ToJsonString();

        // A limit the API refuses: its field error on the limit input, as the API words it for the same body.
        var (status, body) = await system.Send(system.Budgets, HttpMethod.Put, $"/v1/tenants/{Data.Quota}/quota",
            new { limits = new[] { new { meter = Meters.OutputTokens, period = "month", limit = "-5", soft_pct = 80, enforcement = "alert" } } });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        var problem = JsonNode.Parse(body)!;
        var error = Assert.Single(problem["errors"]!.AsObject());
        Assert.Equal("limits[0].limit", error.Key);
        await limit.FillAsync("-5");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save limits" }).ClickAsync();
        await page.Locator("#quota-0-limit[aria-invalid=true]").WaitForAsync();
        Assert.Equal("quota-0-limit-error", await limit.GetAttributeAsync("aria-describedby"));
        Assert.Equal(string.Join("; ", error.Value!.AsArray().Select(m => m!.GetValue<string>())), (await page.Locator("#quota-0-limit-error").InnerTextAsync()).Trim());
        Assert.Equal(1, await page.Locator(".quota-form [aria-invalid=true]").CountAsync());
        Assert.Equal(problem["title"]!.GetValue<string>(), (await page.Locator("section:has(#quota-editor-heading) p.field-error[role=alert]").InnerTextAsync()).Trim());
        Assert.Equal(before, (await system.Api(system.Budgets, $"/v1/tenants/{Data.Quota}/budget"))["limits"]!.ToJsonString());
        Assert.Single((await system.Api(system.Budgets, $"/v1/tenants/{Data.Quota}/quota/history"))["changes"]!.AsArray());
        await ConsoleBrowser.CheckedScreenshotAsync(page, "quota-editor-error");

        // A valid limit: saved, the limits shown are the budget API's, and the history lists the change.
        await limit.FillAsync("2500");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save limits" }).ClickAsync();
        await page.Locator("section:has(#quota-editor-heading) [role=status]").WaitForAsync();
        Assert.Equal(0, await page.Locator(".quota-form [aria-invalid=true]").CountAsync());
        var budget = await system.Api(system.Budgets, $"/v1/tenants/{Data.Quota}/budget");
        var limits = LimitRows(budget);
        Assert.Equal([Meters.OutputTokens, "month", "2,500", "0", "2,500", "80", "alert"], Assert.Single(limits));
        Assert.Equal(limits, (await TableAsync(page, "Limits now")).Select(r => r[..7]).ToList());
        var history = (await system.Api(system.Budgets, $"/v1/tenants/{Data.Quota}/quota/history"))["changes"]!.AsArray()
            .Select(c => new[] { Moment(c!["changed_at"]), c["changed_by"]!.GetValue<string>(), Limits(c["before"]!), Limits(c["after"]!) })
            .ToList();
        Assert.Equal(2, history.Count);
        Assert.Equal($"{Meters.OutputTokens} 2,500/month (soft 80 %, alert)", history[1][3]);
        await WaitForTableAsync(page, "Every change of this tenant's limits", history);
        await browser.AssertFinishedAsync(page, "quota-editor-saved", e => e.IsFailedResponse(400, $"/api/budgets/v1/tenants/{Data.Quota}/quota"));
    }

    [Fact]
    public async Task Rate_cards_show_the_APIs_versions_and_the_diff_between_two_versions_by_URL()
    {
        var page = await browser.SignedInPageAsync(system);
        await page.GotoAsync($"/rate-cards?version={Data.After}&compare={Data.Before}");
        var versionsTable = await TableAsync(page, "Every version, newest first");
        var versions = (await system.Api(system.Billing, "/v1/rate-card"))["versions"]!.AsArray()
            .Select(v => v!)
            .OrderByDescending(v => v["version"]!.GetValue<int>())
            .ToList();
        Assert.Equal(
            versions.Select(v => new[]
            {
                v["version"]!.GetValue<int>() == Data.After ? $"{Data.After} (shown)" : v["version"]!.ToJsonString(), v["effective_from"]!.GetValue<string>(),
                v["currency"]!.GetValue<string>(), v["prices"]!.AsArray().Count.ToString(CultureInfo.InvariantCulture), Moment(v["added_at"]),
            }).ToList(),
            versionsTable);

        var after = versions.Single(v => v["version"]!.GetValue<int>() == Data.After)["prices"]!.AsArray().Select(p => p!).ToList();
        var before = versions.Single(v => v["version"]!.GetValue<int>() == Data.Before)["prices"]!.AsArray().Select(p => p!).ToList();
        Assert.Equal(
            after.OrderBy(PriceKey, StringComparer.Ordinal).Select(p => new[] { p["meter"]!.GetValue<string>(), PriceFor(p), MoneyOf(p["price"]), p["meter"]!.GetValue<string>() == Meters.GpuSeconds ? "per GPU-hour" : "per 1M tokens" }).ToList(),
            await TableAsync(page, $"Version {Data.After}'s prices in USD"));

        // The diff, from the two versions as the API lists them.
        var was = before.ToDictionary(PriceKey);
        var now = after.ToDictionary(PriceKey);
        var added = after.Where(p => !was.ContainsKey(PriceKey(p))).OrderBy(PriceKey, StringComparer.Ordinal).ToList();
        var removed = before.Where(p => !now.ContainsKey(PriceKey(p))).OrderBy(PriceKey, StringComparer.Ordinal).ToList();
        var changed = after.Where(p => was.TryGetValue(PriceKey(p), out var old) && Decimal(old["price"]) != Decimal(p["price"])).OrderBy(PriceKey, StringComparer.Ordinal).ToList();
        var unchanged = after.Count - added.Count - changed.Count;
        Assert.Equal((1, 0, 1), (added.Count, removed.Count, changed.Count));
        Assert.Contains($"From version {Data.Before} to version {Data.After}: 1 added, 0 removed, 1 changed, {unchanged} unchanged.", await page.Locator("main").InnerTextAsync());
        string[] Row(JsonNode p) => [p["meter"]!.GetValue<string>(), PriceFor(p), MoneyOf(p["price"])];
        Assert.Equal(added.Select(Row).ToList(), await TableAsync(page, $"Prices in version {Data.After} and not in version {Data.Before} (added)"));
        Assert.Equal([["None removed."]], await TableAsync(page, $"Prices in version {Data.Before} and not in version {Data.After} (removed)"));
        Assert.Equal(
            changed.Select(p => new[] { p["meter"]!.GetValue<string>(), PriceFor(p), MoneyOf(was[PriceKey(p)]["price"]), MoneyOf(p["price"]) }).ToList(),
            await TableAsync(page, $"Prices changed from version {Data.Before} to version {Data.After}"));
        Assert.Equal(["$1.00", "$1.50"], (await TableAsync(page, $"Prices changed from version {Data.Before} to version {Data.After}")).Single()[2..]);
        await browser.AssertFinishedAsync(page, "rate-cards");
    }

    [Fact]
    public async Task The_team_tree_is_the_teams_API_and_a_parent_change_making_a_cycle_shows_the_APIs_error_with_its_path()
    {
        var page = await browser.SignedInPageAsync(system);
        await page.GotoAsync($"/teams?team={Data.Platform}");
        var teams = (await system.Api(system.Billing, "/v1/teams"))["teams"]!.AsArray().Select(t => t!).ToList();
        var expected = TeamRows(teams, editing: Data.Platform);
        Assert.Equal(expected, await TableAsync(page, "Every team, each below its parent"));
        Assert.Equal([$"└ {Data.Nlp}", $"{Data.Platform} / {Data.Ml} / {Data.Nlp}"], expected.Single(r => r[0].EndsWith(Data.Nlp, StringComparison.Ordinal))[..2]);

        // Platform below its own grandchild: the API's error for the same body, on the parent input, with the cycle's path.
        var (status, body) = await system.Send(system.Billing, HttpMethod.Put, $"/v1/teams/{Data.Platform}", new { name = "Platform", cost_center = "CC-500", parent = Data.Nlp });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        var messages = JsonNode.Parse(body)!["errors"]!["parent"]!.AsArray().Select(m => m!.GetValue<string>()).ToList();
        Assert.Contains($"{Data.Platform} → {Data.Nlp} → {Data.Ml} → {Data.Platform}", Assert.Single(messages));
        await page.Locator("#team-form-heading", new() { HasTextString = $"Edit team {Data.Platform}" }).WaitForAsync();
        await page.FillAsync("input[name=parent]", Data.Nlp);
        await page.GetByRole(AriaRole.Button, new() { Name = "Save team" }).ClickAsync();
        var error = page.Locator("#team-form-parent-error");
        await error.WaitForAsync();
        Assert.Equal(string.Join("; ", messages), (await error.InnerTextAsync()).Trim());
        Assert.Equal("true", await page.Locator("input[name=parent]").GetAttributeAsync("aria-invalid"));
        // Nothing changed: the API's tree and the page's are as before.
        Assert.Equal(expected, TeamRows((await system.Api(system.Billing, "/v1/teams"))["teams"]!.AsArray().Select(t => t!).ToList(), editing: Data.Platform));
        Assert.Equal(expected, await TableAsync(page, "Every team, each below its parent"));
        await browser.AssertFinishedAsync(page, "teams", e => e.IsFailedResponse(400, $"/api/billing/v1/teams/{Data.Platform}"));
    }

    [Fact]
    public async Task The_alerts_page_lists_the_alerts_API_newest_first_and_one_tenants_by_URL()
    {
        var page = await browser.SignedInPageAsync(system);
        await page.GotoAsync("/alerts");
        var all = await TableAsync(page, "Alerts sent, newest first");
        Assert.Equal(AlertRows(await system.Api(system.Budgets, "/v1/alerts?limit=100")), all);
        await ConsoleBrowser.CheckedScreenshotAsync(page, "alerts");

        await page.GotoAsync($"/alerts?tenant={Data.Alerted}");
        var own = await TableAsync(page, $"Alerts sent, newest first, of tenant {Data.Alerted}");
        var expected = AlertRows(await system.Api(system.Budgets, $"/v1/alerts?tenant={Data.Alerted}&limit=100"));
        Assert.Equal(["limit", "soft"], expected.Select(r => r[2]));
        Assert.Equal([Data.Alerted, "soft", "soft threshold crossed", Meters.OutputTokens, "day", "1,000", "850", "—"], expected[1][1..]);
        Assert.Equal(expected, own);
        Assert.Equal(Data.Alerted, await page.InputValueAsync("input[name=tenant]"));
        await OneH1Async(page);
        browser.AssertNoErrorsBut(_ => false);
    }

    private static List<string[]> AlertRows(JsonNode list)
    {
        var meanings = new Dictionary<string, string> { ["soft"] = "soft threshold crossed", ["limit"] = "limit reached", ["forecast"] = "forecast over the limit" };
        return list["alerts"]!.AsArray().Select(a =>
        {
            var meter = a!["meter"]!.GetValue<string>();
            string Figure(JsonNode? n) => n is null ? "—" : meter == "cost_usd" ? Money(Decimal(n)) : Quantity(n);
            var kind = a["kind"]!.GetValue<string>();
            return new[]
            {
                Moment(a["at"]), a["tenant"]!.GetValue<string>(), kind, meanings.GetValueOrDefault(kind, ""), meter, a["period"]!.GetValue<string>(),
                Figure(a["limit"]), Figure(a["used"]), Figure(a["forecast"]),
            };
        }).ToList();
    }

    /// <summary>
    /// The teams as the Teams page lists them while <paramref name="editing"/> is edited: depth first from each root,
    /// children by id; a team whose parent is absent starts its own tree.
    /// </summary>
    private static List<string[]> TeamRows(List<JsonNode> teams, string editing)
    {
        string Id(JsonNode t) => t["team"]!.GetValue<string>();
        string? Parent(JsonNode t) => t["parent"]?.GetValue<string>();
        var ids = teams.Select(Id).ToHashSet();
        var byId = teams.OrderBy(Id, StringComparer.Ordinal).ToList();
        var rows = new List<string[]>();
        var placed = new HashSet<string>();
        void Visit(JsonNode team, int depth, List<string> path, bool orphan)
        {
            if (!placed.Add(Id(team))) return;
            var here = path.Append(Id(team)).ToList();
            var tenants = team["tenants"]!.AsArray().Select(t => t!.GetValue<string>()).ToList();
            rows.Add([
                (depth > 0 ? "└ " : "") + Id(team), string.Join(" / ", here) + (orphan ? $" (parent {Parent(team)} missing)" : ""), team["name"]!.GetValue<string>(),
                team["cost_center"]!.GetValue<string>(), Parent(team) ?? "—", tenants.Count == 0 ? "—" : string.Join(", ", tenants), Id(team) == editing ? "editing" : "Edit",
            ]);
            foreach (var child in byId.Where(c => Parent(c) == Id(team) && Id(c) != Id(team))) Visit(child, depth + 1, here, false);
        }
        foreach (var root in byId.Where(t => Parent(t) is null || Parent(t) == Id(t))) Visit(root, 0, [], false);
        foreach (var orphan in byId.Where(t => Parent(t) is { } p && !ids.Contains(p))) Visit(orphan, 0, [], true);
        return rows;
    }

    /// <summary>The key the console orders prices by: JSON of [meter, model, gpu_type].</summary>
    private static string PriceKey(JsonNode p) =>
        JsonSerializer.Serialize(new[] { p["meter"]!.GetValue<string>(), p["model"]?.GetValue<string>(), p["gpu_type"]?.GetValue<string>() });

    private static string PriceFor(JsonNode p) => p["model"]?.GetValue<string>() ?? p["gpu_type"]?.GetValue<string>() ?? "—";

    /// <summary>A quota as the quota history writes it: "output_tokens 1,000/month (soft 80 %, alert)", or "none".</summary>
    private static string Limits(JsonNode limits) => limits.AsArray().Count == 0
        ? "none"
        : string.Join(", ", limits.AsArray().Select(l => $"{l!["meter"]} {Quantity(l["limit"])}/{l["period"]} (soft {l["soft_pct"]} %, {l["enforcement"]})"));

    /// <summary>
    /// A tenant with a quota of 1,000 output tokens a month; a tenant whose 1,000-a-day quota was crossed (850, then 1,050:
    /// a soft and a limit alert); teams Platform ⊃ ML ⊃ NLP; a model priced $1.00 a million, then a version at $1.50 with
    /// one more model. Waits until the alerts are listed.
    /// </summary>
    protected override async Task<Seeded> SeedAsync()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var (quota, alerted) = ($"ca-quota-{run}", $"ca-alerts-{run}");
        var (platform, ml, nlp) = ($"ca-platform-{run}", $"ca-ml-{run}", $"ca-nlp-{run}");
        await system.Admin(system.Budgets, HttpMethod.Put, $"/v1/tenants/{quota}/quota",
            new { limits = new[] { new { meter = Meters.OutputTokens, period = "month", limit = 1000, enforcement = "alert" } } });
        await system.Admin(system.Billing, HttpMethod.Put, $"/v1/teams/{platform}", new { name = "Platform", cost_center = "CC-500" });
        await system.Admin(system.Billing, HttpMethod.Put, $"/v1/teams/{ml}", new { name = "Machine learning", cost_center = "CC-510", parent = platform });
        await system.Admin(system.Billing, HttpMethod.Put, $"/v1/teams/{nlp}", new { name = "Language", cost_center = "CC-511", parent = ml });
        await system.Admin(system.Billing, HttpMethod.Put, $"/v1/tenants/{quota}/team", new { team = nlp });

        // Two versions on the same day: the first adds the run's model at $1.00, the second changes it and adds another.
        var (model, added) = ($"ca-model-{run}", $"ca-added-{run}");
        var prices = new BillingRequests(system);
        await prices.AddPrice(model, MonthStart, "1.00");
        var current = (await system.Api(system.Billing, $"/v1/rate-card?on={MonthStart}"))["prices"]!.AsArray()
            .Where(p => (string?)p!["model"] != model)
            .Select(p => p!.DeepClone())
            .Append(new JsonObject { ["meter"] = Meters.OutputTokens, ["model"] = model, ["price"] = "1.50" })
            .Append(new JsonObject { ["meter"] = Meters.OutputTokens, ["model"] = added, ["price"] = "0.25" })
            .ToList();
        await system.Admin(system.Billing, HttpMethod.Put, "/v1/rate-card", new JsonObject { ["currency"] = "USD", ["effective_from"] = MonthStart, ["prices"] = new JsonArray([.. current]) });
        var versions = (await system.Api(system.Billing, "/v1/rate-card"))["versions"]!.AsArray();
        int VersionPricing(decimal price) => versions.Last(v => v!["prices"]!.AsArray().Any(p => (string?)p!["model"] == model && Decimal(p["price"]) == price))!["version"]!.GetValue<int>();

        await system.Admin(system.Budgets, HttpMethod.Put, $"/v1/tenants/{alerted}/quota",
            new { limits = new[] { new { meter = Meters.OutputTokens, period = "day", limit = 1000, soft_pct = 80, enforcement = "alert" } } });
        var at = DateTimeOffset.UtcNow.AddSeconds(-1);
        await system.PostUsage(new UsageEvent("a1", alerted, Meters.OutputTokens, 850, at, model));
        await WaitForAsync(async () => (await system.Api(system.Budgets, $"/v1/alerts?tenant={alerted}"))["alerts"]!.AsArray().Count == 1);
        await system.PostUsage(new UsageEvent("a2", alerted, Meters.OutputTokens, 200, at, model));
        await WaitForAsync(async () => (await system.Api(system.Budgets, $"/v1/alerts?tenant={alerted}"))["alerts"]!.AsArray().Count == 2);
        return new Seeded(quota, alerted, platform, ml, nlp, VersionPricing(1.00m), VersionPricing(1.50m));
    }
}
