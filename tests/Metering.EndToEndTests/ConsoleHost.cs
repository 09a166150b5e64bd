namespace Metering.EndToEndTests;

/// <summary>
/// The console's host as a process in front of a running <see cref="MeteringSystem"/>, serving a small fixture build of
/// its own (an index.html and one hashed asset in a temp folder), so the tests do not depend on the app's real build.
/// Started on first use, once per test class; the folder and the process go with the fixture.
/// </summary>
public sealed class ConsoleHost : IAsyncLifetime
{
    public const string IndexMarker = "console fixture page";
    public const string AssetPath = "/assets/app-3f2a9c1d.js";

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly List<ServiceProcess> _processes = [];
    public string Dist { get; } = Path.Combine(Path.GetTempPath(), $"metering-console-dist-{Guid.NewGuid():N}");
    private ServiceProcess? _host;

    public Task InitializeAsync()
    {
        Directory.CreateDirectory(Path.Combine(Dist, "assets"));
        File.WriteAllText(Path.Combine(Dist, "index.html"),
            $"<!doctype html><html><head><title>Metering</title><script type=\"module\" src=\"{AssetPath}\"></script></head><body><h1>{IndexMarker}</h1></body></html>");
        File.WriteAllText(Path.Combine(Dist, AssetPath.TrimStart('/')), "document.title = 'Metering';");
        return Task.CompletedTask;
    }

    /// <summary>The host serving <see cref="Dist"/> against the system's three services.</summary>
    public async Task<ServiceProcess> HostAsync(MeteringSystem system)
    {
        await _gate.WaitAsync();
        try
        {
            return _host ??= await StartAsync(system, Dist);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Another host, serving <paramref name="dist"/>; disposed with the fixture.</summary>
    public async Task<ServiceProcess> StartAsync(MeteringSystem system, string dist)
    {
        var environment = new Dictionary<string, string>
        {
            ["METERING_INGEST_URL"] = system.Ingest.Url.ToString(),
            ["METERING_BUDGETS_URL"] = system.Budgets.Url.ToString(),
            ["METERING_BILLING_URL"] = system.Billing.Url.ToString(),
            ["METERING_CONSOLE_DIST"] = dist,
        };
        var process = ServiceProcess.Start("Console", environment, Path.Combine(BuildOutput.RepositoryRoot, ".metering", "logs", "e2e"));
        _processes.Add(process);
        await process.WaitUntilReadyAsync(system.Http, TimeSpan.FromSeconds(60));
        return process;
    }

    public async Task DisposeAsync()
    {
        foreach (var process in _processes) await process.DisposeAsync();
        Directory.Delete(Dist, recursive: true);
        _gate.Dispose();
    }
}
