using static Metering.EndToEndTests.ConsolePages;

namespace Metering.EndToEndTests;

/// <summary>
/// The console's billing pages in headless Chromium against the real stack: a month's invoices and an invoice with its
/// marked lines, finalize's 409 and a void; the previous month's close (reconciliation, then finalize all); the
/// chargeback tree with its CSV and FOCUS downloads. Each page's numbers are compared with the API's answer for the
/// same view. Seeds tenants and teams of its own on the console's system (<see cref="ConsoleBrowserTests"/>).
/// </summary>
[Collection(ConsoleSystemCollection.Name)]
public sealed class ConsoleBillingBrowserTests(ConsoleMeteringSystem system, ConsoleBrowser browser) : SeededBrowserTests<ConsoleBillingBrowserTests.Seeded>
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;
    private static readonly string Period = Now.ToString("yyyy-MM", CultureInfo.InvariantCulture);
    private static readonly string MonthStart = $"{Period}-01";
    private static readonly DateTimeOffset PreviousMonth = new DateTimeOffset(Now.Year, Now.Month, 1, 0, 0, 0, TimeSpan.Zero).AddMonths(-1);
    private static readonly string Previous = PreviousMonth.ToString("yyyy-MM", CultureInfo.InvariantCulture);
    /// <summary>The 15th of the previous month at noon: at most 47 days ago, well inside the 62 days usage may be late.</summary>
    private static readonly DateTimeOffset LastMonth = PreviousMonth.AddDays(14).AddHours(12);

    /// <summary>
    /// Billed: a tenant whose previous month is finalized and whose current invoice has a priced line, an adjustment line
    /// (late usage of the finalized month) and an unpriced line. CloseA and CloseB: tenants with draft invoices last month.
    /// </summary>
    public sealed record Seeded(string Billed, string CloseA, string CloseB, string Finance, string Payables, string Model, string Unpriced);

    [Fact]
    public async Task The_invoice_list_and_an_invoice_show_the_invoice_API_with_adjustment_and_unpriced_lines_marked_finalize_its_409_and_void_its_result()
    {
        var page = await browser.SignedInPageAsync(system);
        await page.GotoAsync($"/invoices?period={Period}");
        var list = await TableAsync(page, $"Every invoice of {Period}, by tenant");
        var listed = await system.Api(system.Billing, $"/v1/invoices?period={Period}");
        var expected = listed["invoices"]!.AsArray()
            .Select(i => new[] { i!["tenant"]!.GetValue<string>(), i["team"]?.GetValue<string>() ?? "—", i["status"]!.GetValue<string>(), Money(Decimal(i["total"])) })
            .ToList();
        Assert.Contains(expected, r => r[0] == Data.Billed && r[1] == Data.Payables && r[2] == "draft");
        Assert.Equal(expected, list);
        var figures = await FiguresAsync(page);
        Assert.Equal(Money(Decimal(listed["total"])), figures["Total"]);
        Assert.Equal(expected.Count.ToString("#,##0", CultureInfo.InvariantCulture), figures["Invoices"]);
        await ConsoleBrowser.CheckedScreenshotAsync(page, "invoices");

        await page.GetByRole(AriaRole.Link, new() { Name = Data.Billed, Exact = true }).ClickAsync();
        await AtAsync(page, $"/invoices/{Data.Billed}/{Period}");
        var invoice = await system.Api(system.Billing, $"/v1/invoices/{Data.Billed}/{Period}");
        var lines = await TableAsync(page, "The invoice's lines");
        Assert.Equal(InvoiceLines(invoice), lines);
        Assert.Contains(lines, l => l[1] == $"adjustment for {Previous}");
        Assert.Contains(lines, l => l[1] == "unpriced" && l[3] == "unpriced" && l[4] == "—");
        // Marked, not only labelled: each kind has its class, as many as the API has lines of that kind.
        var table = Table(page, "The invoice's lines");
        Assert.Equal(invoice["lines"]!.AsArray().Count(l => l!["adjustment_for"] is not null), await table.Locator("span.line-adjustment").CountAsync());
        Assert.Equal(invoice["lines"]!.AsArray().Count(l => l!["unit_price"] is null), await table.Locator("span.line-unpriced").CountAsync());
        Assert.Equal(Money(Decimal(invoice["total"])), (await FiguresAsync(page))["Total"]);
        await OneH1Async(page);

        // Finalize a month not ended: the API's 409 for the same body, and the invoice still a draft.
        var (refusedStatus, refusedBody) = await system.Send(system.Billing, HttpMethod.Post, $"/v1/invoices/{Data.Billed}/{Period}/finalize", new { force = false, allow_unpriced = false });
        Assert.Equal(HttpStatusCode.Conflict, refusedStatus);
        var refusal = JsonNode.Parse(refusedBody)!;
        await page.GetByRole(AriaRole.Button, new() { Name = $"Finalize {Period}" }).ClickAsync();
        var problem = page.Locator("[role=alert]");
        await problem.WaitForAsync();
        var shown = await problem.InnerTextAsync();
        Assert.Contains($"{refusal["title"]!.GetValue<string>()} (409)", shown);
        Assert.Contains(refusal["detail"]!.GetValue<string>(), shown);
        Assert.Equal("draft", (await system.Api(system.Billing, $"/v1/invoices/{Data.Billed}/{Period}"))["status"]!.GetValue<string>());

        // Void the priced usage of the month from its row: the page shows the void's result, and the API has it.
        var row = page.Locator("tr").Filter(new() { Has = page.Locator("code", new() { HasTextRegex = new Regex("^d1$") }) });
        await row.GetByRole(AriaRole.Button, new() { Name = "Void…" }).ClickAsync();
        await page.FillAsync("input[name=reason]", "sent twice by the chat service");
        await page.GetByRole(AriaRole.Button, new() { Name = "Void", Exact = true }).ClickAsync();
        var voided = page.Locator("section:has(#void-heading) [role=status]");
        await voided.WaitForAsync();
        Assert.Matches(new Regex($@"^Voided d1 \(2,000,000 output_tokens of {Period}\) at \d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d UTC\.$"), (await voided.InnerTextAsync()).Trim());
        var usage = await system.Api(system.Billing, $"/v1/invoices/{Data.Billed}/{Period}/usage?offset=0&limit=100");
        Assert.Contains(usage["usage"]!.AsArray(), u => u!["id"]!.GetValue<string>() == "d1" && (string?)u["void_reason"] == "sent twice by the chat service");
        var (again, _) = await system.Send(system.Billing, HttpMethod.Post, $"/v1/usage/{Data.Billed}/d1/void", new { reason = "again" });
        Assert.Equal(HttpStatusCode.Conflict, again);
        // The page read the invoice again: its lines are the API's after the void.
        var afterVoid = InvoiceLines(await system.Api(system.Billing, $"/v1/invoices/{Data.Billed}/{Period}"));
        Assert.NotEqual(lines, afterVoid);
        await WaitForTableAsync(page, "The invoice's lines", afterVoid);
        await browser.AssertFinishedAsync(page, "invoice", e => e.IsFailedResponse(409, $"/api/billing/v1/invoices/{Data.Billed}/{Period}/finalize"));
    }

    [Fact]
    public async Task Month_close_of_the_previous_month_shows_the_reconciliation_APIs_differences_and_counts_then_finalizes_every_draft_invoice()
    {
        await WaitForAsync(async () => await system.Api(system.Billing, $"/v1/reconciliation/{Previous}") is var r
            && r["ledger_current"]!.GetValue<bool>() && r["balanced"]!.GetValue<bool>());
        var page = await browser.SignedInPageAsync(system);
        await page.GotoAsync("/month-close");
        await page.Locator("#checklist-heading", new() { HasTextString = $"Reconciliation of {Previous} (UTC)" }).WaitForAsync();
        var reconciliation = await system.Api(system.Billing, $"/v1/reconciliation/{Previous}");

        var differences = reconciliation["differences"]!.AsArray()
            .Select(d => new[] { d!["check"]!.GetValue<string>(), d["tenant"]?.GetValue<string>() ?? "—", d["expected"]!.GetValue<string>(), d["actual"]!.GetValue<string>() })
            .ToList();
        if (differences.Count == 0) differences.Add(["No differences."]);
        Assert.Equal(differences, await TableAsync(page, "Every difference"));
        var counts = reconciliation["counts"]!.AsObject()
            .Select(c => new[] { c.Key.Replace('_', ' '), Quantity(c.Value) })
            .ToList();
        Assert.Equal(7, counts.Count);
        Assert.True(Decimal(reconciliation["counts"]!["accepted"]) >= 3, reconciliation.ToJsonString());
        Assert.Equal(counts, await TableAsync(page, "Event counts of the month"));
        var figures = await FiguresAsync(page);
        Assert.Equal(Money(Decimal(reconciliation["usage_priced"])), figures["Usage × rates"]);
        Assert.Equal(Money(Decimal(reconciliation["invoices"])), figures["Invoices"]);
        Assert.Equal(Money(Decimal(reconciliation["ledger_debits"])), figures["Ledger debits"]);
        Assert.Equal(Money(Decimal(reconciliation["ledger_credits"])), figures["Ledger credits"]);
        Assert.Equal(Money(Decimal(reconciliation["statements"])), figures["Statements"]);
        var checklist = await TableAsync(page, "Month-close checklist");
        Assert.Contains(new[] { "Usage × rates = invoices", "✓ ok", $"{Text(reconciliation["usage_priced"])} = {Text(reconciliation["invoices"])}" }, checklist);
        Assert.Contains(new[] { "Invoices = ledger debits", "✓ ok", $"{Text(reconciliation["invoices"])} = {Text(reconciliation["ledger_debits"])}" }, checklist);
        await ConsoleBrowser.CheckedScreenshotAsync(page, "month-close");

        // Finalize all: every draft of the month, one after another, each step's result shown.
        var drafts = (await system.Api(system.Billing, $"/v1/invoices?period={Previous}"))["invoices"]!.AsArray()
            .Where(i => i!["status"]!.GetValue<string>() == "draft")
            .Select(i => i!["tenant"]!.GetValue<string>())
            .Order(StringComparer.Ordinal)
            .ToList();
        Assert.Contains(Data.CloseA, drafts);
        Assert.Contains(Data.CloseB, drafts);
        await page.GetByRole(AriaRole.Button, new() { Name = $"Finalize all {drafts.Count} draft invoices of {Previous}" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Reconcile again" }).WaitForAsync();
        Assert.StartsWith($"{drafts.Count} finalized, 0 refused.", await page.Locator("section:has(#finalize-all-heading) [role=status]").InnerTextAsync());
        var steps = await TableAsync(page, $"Finalize all of {Previous}: each invoice's result");
        var finalized = new List<string[]>();
        foreach (var tenant in drafts)
        {
            var invoice = await system.Api(system.Billing, $"/v1/invoices/{tenant}/{Previous}");
            Assert.Equal("finalized", invoice["status"]!.GetValue<string>());
            finalized.Add([tenant, "finalized", $"total {Money(Decimal(invoice["total"]))}"]);
        }
        Assert.Equal(finalized, steps);
        Assert.Equal("$4.50", Assert.Single(steps, s => s[0] == Data.CloseA)[2][6..]);
        Assert.DoesNotContain((await system.Api(system.Billing, $"/v1/invoices?period={Previous}"))["invoices"]!.AsArray(), i => i!["status"]!.GetValue<string>() == "draft");
        await browser.AssertFinishedAsync(page, "month-close-finalized");
    }

    [Fact]
    public async Task The_chargeback_tree_shows_the_chargeback_APIs_own_and_rolled_up_costs_and_its_downloads_equal_the_APIs_CSV_and_FOCUS()
    {
        await WaitForAsync(async () => await system.Api(system.Billing, $"/v1/chargeback/{Period}") is var c
            && c["ledger_current"]!.GetValue<bool>() && c["teams"]!.AsArray().Any(t => t!["team"]!.GetValue<string>() == Data.Payables && Decimal(t["rolled_up"]!["total"]) > 0));
        var page = await browser.SignedInPageAsync(system);
        await page.GotoAsync("/chargeback");
        var tree = await TableAsync(page, "Each team's own cost");
        var statement = await system.Api(system.Billing, $"/v1/chargeback/{Period}");
        var expected = TreeOrder(statement["teams"]!.AsArray().Select(t => t!).ToList())
            .Select(t => new[]
            {
                t["team"]!.GetValue<string>(), t["name"]!.GetValue<string>(), t["cost_center"]?.GetValue<string>() ?? "—", t["tenants"]!.AsArray().Count.ToString(CultureInfo.InvariantCulture),
                MoneyOf(t["own"]!["direct_cost"]), MoneyOf(t["own"]!["corrections"]), MoneyOf(t["own"]!["idle_cost"]), MoneyOf(t["own"]!["total"]),
                MoneyOf(t["rolled_up"]!["direct_cost"]), MoneyOf(t["rolled_up"]!["corrections"]), MoneyOf(t["rolled_up"]!["idle_cost"]), MoneyOf(t["rolled_up"]!["total"]),
            })
            .ToList();
        Assert.Equal(expected, tree);
        // The seeded parent holds one tenant and rolls its child up: Finance's rolled-up total is more than its own.
        var finance = Assert.Single(tree, r => r[0] == Data.Finance);
        var payables = Assert.Single(tree, r => r[0] == Data.Payables);
        Assert.Equal(tree.IndexOf(finance) + 1, tree.IndexOf(payables));
        Assert.NotEqual(finance[7], finance[11]);
        Assert.Contains(Money(Decimal(statement["total"])), await page.Locator("#tree-heading").InnerTextAsync());
        Assert.Equal(0, await page.Locator("p.warning").CountAsync());
        await ConsoleBrowser.CheckedScreenshotAsync(page, "chargeback");

        foreach (var (link, format) in new[] { ("Statement CSV", "csv"), ("FOCUS CSV", "focus") })
        {
            var download = await page.RunAndWaitForDownloadAsync(() => page.GetByRole(AriaRole.Link, new() { Name = link }).ClickAsync());
            var file = await File.ReadAllTextAsync(await download.PathAsync());
            var (status, answer) = await system.Send(system.Billing, HttpMethod.Get, $"/v1/chargeback/{Period}?format={format}");
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Contains(Data.Payables, answer);
            Assert.Equal(answer, file);
        }
        browser.AssertNoErrorsBut(_ => false);
    }

    private static string Text(JsonNode? node) => node!.GetValue<string>();

    /// <summary>An invoice's lines as the invoice page writes them: item, kind, quantity, unit price, amount.</summary>
    private static List<string[]> InvoiceLines(JsonNode invoice) => invoice["lines"]!.AsArray()
        .Select(l =>
        {
            var model = l!["model"]?.GetValue<string>();
            var gpu = l["gpu_type"]?.GetValue<string>();
            var item = model is not null ? $"{l["meter"]} · {model}" : gpu is not null ? $"{l["meter"]} · {gpu}" : l["meter"]!.GetValue<string>();
            var kinds = new List<string>();
            if (l["adjustment_for"] is { } month) kinds.Add($"adjustment for {month}");
            if (l["unit_price"] is null || l["amount"] is null) kinds.Add("unpriced");
            return new[] { item, kinds.Count == 0 ? "usage" : string.Join(", ", kinds), Quantity(l["quantity"]), l["unit_price"] is null ? "unpriced" : MoneyOf(l["unit_price"]), MoneyOf(l["amount"]) };
        })
        .ToList();

    /// <summary>Teams in tree order: each parent before its children, roots and siblings by id (a team whose parent is absent is a root).</summary>
    private static List<JsonNode> TreeOrder(List<JsonNode> teams)
    {
        var ids = teams.Select(t => t["team"]!.GetValue<string>()).ToHashSet();
        string? ParentOf(JsonNode t) => t["parent"]?.GetValue<string>() is { } p && p != t["team"]!.GetValue<string>() && ids.Contains(p) ? p : null;
        var ordered = new List<JsonNode>();
        void Visit(JsonNode team)
        {
            ordered.Add(team);
            foreach (var child in teams.Where(c => ParentOf(c) == team["team"]!.GetValue<string>()).OrderBy(c => c["team"]!.GetValue<string>(), StringComparer.Ordinal)) Visit(child);
        }
        foreach (var root in teams.Where(t => ParentOf(t) is null).OrderBy(t => t["team"]!.GetValue<string>(), StringComparer.Ordinal)) Visit(root);
        return ordered;
    }

    /// <summary>
    /// Two teams (Finance, and Payables below it), a model priced $3 a million from the previous month, and: Billed
    /// (Payables) with 1,000,000 output tokens last month, finalized, then 500,000 more for that month (an adjustment on
    /// this month's invoice), 2,000,000 this month and 300,000 of a model no price covers; CloseA (Finance) and CloseB
    /// (Payables) with usage in both months. Waits until invoices show all of it.
    /// </summary>
    protected override async Task<Seeded> SeedAsync()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var seeded = new Seeded($"cc-billed-{run}", $"cc-close-a-{run}", $"cc-close-b-{run}", $"cc-finance-{run}", $"cc-payables-{run}", $"cc-model-{run}", $"cc-unpriced-{run}");
        await system.Admin(system.Billing, HttpMethod.Put, $"/v1/teams/{seeded.Finance}", new { name = "Finance", cost_center = "CC-900" });
        await system.Admin(system.Billing, HttpMethod.Put, $"/v1/teams/{seeded.Payables}", new { name = "Payables", cost_center = "CC-910", parent = seeded.Finance });
        await system.Admin(system.Billing, HttpMethod.Put, $"/v1/tenants/{seeded.Billed}/team", new { team = seeded.Payables });
        await system.Admin(system.Billing, HttpMethod.Put, $"/v1/tenants/{seeded.CloseA}/team", new { team = seeded.Finance });
        await system.Admin(system.Billing, HttpMethod.Put, $"/v1/tenants/{seeded.CloseB}/team", new { team = seeded.Payables });
        var prices = new BillingRequests(system);
        await prices.AddPrice(seeded.Model, PreviousMonth.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), "3.00");
        await prices.AddPrice(seeded.Model, MonthStart, "3.00");

        var now = Now.AddSeconds(-1);
        await system.PostUsage(
            new UsageEvent("n1", seeded.Billed, Meters.OutputTokens, 1_000_000, LastMonth, seeded.Model),
            new UsageEvent("d1", seeded.Billed, Meters.OutputTokens, 2_000_000, now, seeded.Model),
            new UsageEvent("d2", seeded.Billed, Meters.OutputTokens, 300_000, now, seeded.Unpriced),
            new UsageEvent("n1", seeded.CloseA, Meters.OutputTokens, 1_500_000, LastMonth, seeded.Model),
            new UsageEvent("d1", seeded.CloseA, Meters.OutputTokens, 500_000, now, seeded.Model),
            new UsageEvent("n1", seeded.CloseB, Meters.OutputTokens, 2_500_000, LastMonth, seeded.Model),
            new UsageEvent("d1", seeded.CloseB, Meters.OutputTokens, 700_000, now, seeded.Model));
        await WaitForInvoice(seeded.Billed, Previous, i => i["total"]!.GetValue<string>() == "3.00");
        await system.Admin(system.Billing, HttpMethod.Post, $"/v1/invoices/{seeded.Billed}/{Previous}/finalize", new { });
        await system.PostUsage(new UsageEvent("n2", seeded.Billed, Meters.OutputTokens, 500_000, LastMonth.AddHours(1), seeded.Model));

        await WaitForInvoice(seeded.Billed, Period, i => i["lines"]!.AsArray().Count == 3 && i["total"]!.GetValue<string>() == "7.50");
        await WaitForInvoice(seeded.CloseA, Previous, i => i["total"]!.GetValue<string>() == "4.50");
        await WaitForInvoice(seeded.CloseB, Previous, i => i["total"]!.GetValue<string>() == "7.50");
        await WaitForInvoice(seeded.CloseA, Period, i => i["total"]!.GetValue<string>() == "1.50");
        await WaitForInvoice(seeded.CloseB, Period, i => i["total"]!.GetValue<string>() == "2.10");
        return seeded;
    }

    private async Task WaitForInvoice(string tenant, string period, Func<JsonNode, bool> shows) => await WaitForAsync(async () =>
    {
        var (status, body) = await system.Send(system.Billing, HttpMethod.Get, $"/v1/invoices/{tenant}/{period}");
        return status == HttpStatusCode.OK && shows(JsonNode.Parse(body)!);
    });
}
