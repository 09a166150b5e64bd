namespace Metering.EndToEndTests;

/// <summary>
/// Debian's Chromium, headless, driven by Playwright, on the real console: the app's own build (console/dist, which
/// <c>./metering test</c> builds first) served by its real host in front of a <see cref="MeteringSystem"/>. One browser
/// with a fresh user-data dir per test class; each test opens pages in it. Every page's console errors and uncaught
/// exceptions are collected, and every page visited is saved as a screenshot.
/// </summary>
public sealed class ConsoleBrowser : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";
    private static readonly string[] ChromiumArguments =
    [
        "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync",
    ];

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly string _userData = Path.Combine(Path.GetTempPath(), $"metering-chromium-{Guid.NewGuid():N}");
    private readonly ConsoleHost _hosts = new();
    private IPlaywright? _playwright;
    private IBrowserContext? _context;

    public static string Dist { get; } = Path.Combine(BuildOutput.RepositoryRoot, "console", "dist");
    public Uri Url { get; private set; } = null!;
    /// <summary>Console errors and page errors of every page opened since the last <see cref="TakeErrors"/>.</summary>
    private readonly List<BrowserError> _errors = [];

    public Task InitializeAsync() => _hosts.InitializeAsync();

    /// <summary>The browser context (started on first use) on the console host in front of <paramref name="system"/>.</summary>
    public async Task<IBrowserContext> ContextAsync(MeteringSystem system)
    {
        await _gate.WaitAsync();
        try
        {
            if (_context is not null) return _context;
            Assert.True(File.Exists(Path.Combine(Dist, "index.html")), $"{Dist} holds no build of the console: ./metering test builds it (build_console) before the tests");
            Assert.True(File.Exists(ChromiumPath), $"{ChromiumPath} is missing: ./metering test installs Debian's chromium package");
            var host = await _hosts.StartAsync(system, Dist);
            Url = host.Url;
            // Playwright must never fetch a browser of its own; it drives Debian's.
            Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
            _playwright = await Playwright.CreateAsync();
            _context = await _playwright.Chromium.LaunchPersistentContextAsync(_userData, new BrowserTypeLaunchPersistentContextOptions
            {
                ExecutablePath = ChromiumPath,
                Headless = true,
                Args = ChromiumArguments,
                AcceptDownloads = true,
                BaseURL = host.Url.ToString(),
                ViewportSize = new ViewportSize { Width = 1280, Height = 900 },
                TimezoneId = "UTC",
                Locale = "en-US",
            });
            _context.SetDefaultTimeout(30_000);
            return _context;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>A new page, signed out (the context's cookies cleared), whose errors are collected.</summary>
    public async Task<IPage> NewPageAsync(MeteringSystem system)
    {
        // A test that failed before its own check leaves its errors: they are not the next test's.
        TakeErrors();
        var context = await ContextAsync(system);
        await context.ClearCookiesAsync();
        foreach (var open in context.Pages.ToList()) await open.CloseAsync();
        var page = await context.NewPageAsync();
        page.Console += (_, message) =>
        {
            if (message.Type == "error") lock (_errors) _errors.Add(new BrowserError(message.Text, message.Location));
        };
        page.PageError += (_, error) =>
        {
            lock (_errors) _errors.Add(new BrowserError($"uncaught: {error}", page.Url));
        };
        return page;
    }

    /// <summary>A new page (<see cref="NewPageAsync"/>) signed in with the token.</summary>
    public async Task<IPage> SignedInPageAsync(MeteringSystem system, string token = MeteringSystem.AdminToken)
    {
        var page = await NewPageAsync(system);
        await ConsolePages.SignInAsync(page, token);
        return page;
    }

    /// <summary>
    /// How a test leaves a page it checked: one h1 on it, its screenshot as <paramref name="screenshot"/>, and no error
    /// collected but those <paramref name="expected"/> accepts (none when not given).
    /// </summary>
    public async Task AssertFinishedAsync(IPage page, string screenshot, Func<BrowserError, bool>? expected = null)
    {
        await CheckedScreenshotAsync(page, screenshot);
        AssertNoErrorsBut(expected ?? (_ => false));
    }

    /// <summary>One h1 on the page (<see cref="ConsolePages.OneH1Async"/>), then its screenshot (<see cref="ScreenshotAsync"/>).</summary>
    public static async Task CheckedScreenshotAsync(IPage page, string name)
    {
        await ConsolePages.OneH1Async(page);
        await ScreenshotAsync(page, name);
    }

    /// <summary>The errors collected so far, and a fresh start.</summary>
    public IReadOnlyList<BrowserError> TakeErrors()
    {
        lock (_errors)
        {
            var taken = _errors.ToList();
            _errors.Clear();
            return taken;
        }
    }

    /// <summary>Fails on any error collected since the last check but those <paramref name="expected"/> accepts (the failed responses a test caused on purpose).</summary>
    public void AssertNoErrorsBut(Func<BrowserError, bool> expected)
    {
        var unexpected = TakeErrors().Where(e => !expected(e)).ToList();
        Assert.True(unexpected.Count == 0, "console errors: " + string.Join(" | ", unexpected.Select(e => $"{e.Text} at {e.Location}")));
    }

    /// <summary>
    /// The page as it is now, as docs/console/{name}.png when METERING_UPDATE_SCREENSHOTS=1 (the README shows those),
    /// otherwise into .metering/test-results/console-screenshots/.
    /// </summary>
    public static async Task ScreenshotAsync(IPage page, string name)
    {
        var folder = Environment.GetEnvironmentVariable("METERING_UPDATE_SCREENSHOTS") == "1"
            ? Path.Combine(BuildOutput.RepositoryRoot, "docs", "console")
            : Path.Combine(BuildOutput.RepositoryRoot, ".metering", "test-results", "console-screenshots");
        Directory.CreateDirectory(folder);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(folder, $"{name}.png"), FullPage = true });
    }

    public async Task DisposeAsync()
    {
        if (_context is not null) await _context.CloseAsync();
        _playwright?.Dispose();
        await _hosts.DisposeAsync();
        if (Directory.Exists(_userData)) Directory.Delete(_userData, recursive: true);
        _gate.Dispose();
    }
}

/// <summary>A console message of type error (its text and where it came from: a URL with line and column) or a page error.</summary>
public sealed record BrowserError(string Text, string Location)
{
    /// <summary>Chromium's line for a response with an error status, e.g. the signed-out /auth/session 401.</summary>
    public bool IsFailedResponse(int status, string path) =>
        Text.StartsWith($"Failed to load resource: the server responded with a status of {status}", StringComparison.Ordinal)
        && Location.Contains(path, StringComparison.Ordinal);
}
