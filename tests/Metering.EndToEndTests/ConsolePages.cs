namespace Metering.EndToEndTests;

/// <summary>
/// What the console's browser tests share: signing in, reading a page's tables and figures, and writing numbers as the
/// console writes them, so a page's text can be compared with the API's answer for the same view.
/// </summary>
internal static class ConsolePages
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    public static async Task SignInAsync(IPage page, string token)
    {
        if (!page.Url.Contains("/sign-in", StringComparison.Ordinal)) await page.GotoAsync("/sign-in");
        await page.FillAsync("#token", token);
        await page.ClickAsync("button[type=submit]");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).WaitForAsync();
    }

    /// <summary>
    /// Waits until the page's address ends with <paramref name="path"/>, and any query when the path gives none. Not
    /// <c>WaitForURLAsync</c>: it checks the address, then subscribes to navigations, and loses a client-side redirect
    /// that lands between the two (microsoft/playwright-dotnet#3364); the assertion polls the address instead.
    /// </summary>
    public static Task AtAsync(IPage page, string path) =>
        Assertions.Expect(page).ToHaveURLAsync(
            new Regex(Regex.Escape(path) + (path.Contains('?', StringComparison.Ordinal) ? "$" : @"(\?[^#]*)?$")),
            new() { Timeout = 30_000 });

    /// <summary>Exactly one h1 on the page (waits until the page has rendered one).</summary>
    public static async Task OneH1Async(IPage page)
    {
        await page.Locator("h1").First.WaitForAsync();
        Assert.Equal(1, await page.Locator("h1").CountAsync());
    }

    /// <summary>The table whose caption starts with <paramref name="caption"/>.</summary>
    public static ILocator Table(IPage page, string caption) =>
        page.Locator("table[role=table]").Filter(new() { Has = page.Locator("caption").Filter(new() { HasTextRegex = new Regex($"^{Regex.Escape(caption)}") }) });

    /// <summary>The body rows of the table whose caption starts with <paramref name="caption"/>, once it has rendered, as cell texts.</summary>
    public static async Task<List<string[]>> TableAsync(IPage page, string caption)
    {
        var table = Table(page, caption);
        await table.WaitForAsync();
        return (await table.EvaluateAsync<string[][]>("t => [...t.tBodies[0].rows].map(r => [...r.cells].map(c => c.textContent.trim()))")).ToList();
    }

    /// <summary>Waits until the table shows <paramref name="expected"/> (a page reads again after a change), then asserts it.</summary>
    public static async Task WaitForTableAsync(IPage page, string caption, List<string[]> expected)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        var rows = await TableAsync(page, caption);
        while (!rows.SelectMany(r => r).SequenceEqual(expected.SelectMany(r => r)) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250);
            rows = await TableAsync(page, caption);
        }
        Assert.Equal(expected, rows);
    }

    /// <summary>The figures of the page's first <c>dl.figures</c> (or the one <paramref name="figures"/> names): each dt's text and its dd's.</summary>
    public static async Task<Dictionary<string, string>> FiguresAsync(IPage page, ILocator? figures = null)
    {
        figures ??= page.Locator("dl.figures").First;
        await figures.WaitForAsync();
        var pairs = await figures.EvaluateAsync<string[][]>("dl => [...dl.querySelectorAll('div')].map(d => [d.querySelector('dt').textContent.trim(), d.querySelector('dd').textContent.trim()])");
        return pairs.ToDictionary(p => p[0], p => p[1]);
    }

    /// <summary>As the console writes money: "$1,234.50", rounded half-even to cents.</summary>
    public static string Money(decimal amount)
    {
        var text = Math.Abs(decimal.Round(amount, 2, MidpointRounding.ToEven)).ToString("#,##0.00", CultureInfo.InvariantCulture);
        return amount < 0 ? $"-${text}" : $"${text}";
    }

    public static string MoneyOf(JsonNode? node) => node is null ? "—" : Money(Decimal(node));

    /// <summary>As the console writes a quantity: every digit the API wrote, no trailing zeros, thousands grouped.</summary>
    public static string Quantity(JsonNode? node)
    {
        if (node is null) return "—";
        var text = Decimal(node).ToString(CultureInfo.InvariantCulture);
        if (text.Contains('.')) text = text.TrimEnd('0').TrimEnd('.');
        var parts = text.Split('.');
        var integer = decimal.Parse(parts[0], CultureInfo.InvariantCulture).ToString("#,##0", CultureInfo.InvariantCulture);
        return parts.Length == 2 ? $"{integer}.{parts[1]}" : integer;
    }

    /// <summary>A budget's limits (the budget API's answer) as the console's "Limits now" table writes their first seven columns.</summary>
    public static List<string[]> LimitRows(JsonNode budget) => budget["limits"]!.AsArray()
        .Select(l => new[]
        {
            l!["meter"]!.GetValue<string>(), l["period"]!.GetValue<string>(), Quantity(l["limit"]), Quantity(l["used"]),
            Quantity(l["remaining"]), l["soft_pct"]!.ToJsonString(), l["enforcement"]!.GetValue<string>(),
        })
        .ToList();

    /// <summary>As the console writes an RFC 3339 moment: "2026-11-20 14:03:07 UTC".</summary>
    public static string Moment(JsonNode? node) =>
        node is null ? "—" : DateTimeOffset.Parse(node.GetValue<string>(), CultureInfo.InvariantCulture).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " UTC";

    public static decimal Decimal(JsonNode? node) => node!.GetValueKind() == JsonValueKind.String
        ? decimal.Parse(node.GetValue<string>(), CultureInfo.InvariantCulture)
        : node.GetValue<decimal>();

    public static StringContent JsonContent(object body) =>
        new(JsonSerializer.Serialize(body, MeteringJson.Options), Encoding.UTF8, "application/json");

    public static async Task WaitForAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the seeded usage never showed in the APIs");
            await Task.Delay(250);
        }
    }
}

/// <summary>The API calls a console page is compared with, and the admin calls that seed a test's data.</summary>
internal static class ConsoleApi
{
    /// <summary>A GET that must answer 200, as JSON.</summary>
    public static async Task<JsonNode> Api(this MeteringSystem system, ServiceProcess service, string path, string token = MeteringSystem.AdminToken)
    {
        using var response = await system.Http.SendAsync(system.Request(HttpMethod.Get, service, path, token));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {body}");
        return JsonNode.Parse(body)!;
    }

    /// <summary>An admin call that must answer 200.</summary>
    public static async Task Admin(this MeteringSystem system, ServiceProcess service, HttpMethod method, string path, object body)
    {
        using var response = await system.Http.SendAsync(system.Request(method, service, path, MeteringSystem.AdminToken, ConsolePages.JsonContent(body)));
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{method} {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>An admin call whose status and body the test compares with what a page shows.</summary>
    public static async Task<(HttpStatusCode Status, string Body)> Send(this MeteringSystem system, ServiceProcess service, HttpMethod method, string path, object? body = null)
    {
        using var response = await system.Http.SendAsync(system.Request(method, service, path, MeteringSystem.AdminToken, body is null ? null : ConsolePages.JsonContent(body)));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public static async Task PostUsage(this MeteringSystem system, params UsageEvent[] usage)
    {
        using var posted = await system.Http.SendAsync(system.Request(HttpMethod.Post, system.Ingest, "/v1/usage", MeteringSystem.EmitterToken, ConsolePages.JsonContent(new { events = usage })));
        Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
    }
}
