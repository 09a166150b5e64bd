namespace Metering.EndToEndTests;

/// <summary>One Metering service started from its build output as a separate process, its output kept in a log file.</summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;

    private ServiceProcess(string name, Process process, StreamWriter log, string logPath, Uri url, Uri managementUrl)
    {
        Name = name;
        _process = process;
        _log = log;
        LogPath = logPath;
        Url = url;
        ManagementUrl = managementUrl;
    }

    /// <summary>Everything the process wrote to standard output and error.</summary>
    public string LogPath { get; }

    public string Name { get; }
    public Uri Url { get; }
    /// <summary>Where the process serves its metrics (METERING_MANAGEMENT_URL): a free port of its own unless the environment names one.</summary>
    public Uri ManagementUrl { get; }
    public int Id => _process.Id;
    public bool HasExited => _process.HasExited;

    public static ServiceProcess Start(string name, IReadOnlyDictionary<string, string> environment, string logDirectory, Uri? url = null)
    {
        url ??= new Uri($"http://127.0.0.1:{FreePorts.Next()}");
        var info = new ProcessStartInfo("dotnet", OutputOf(name))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = BuildOutput.RepositoryRoot,
        };
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        info.Environment["ASPNETCORE_URLS"] = url.ToString();
        info.Environment["METERING_MANAGEMENT_URL"] = $"http://127.0.0.1:{FreePorts.Next()}";
        // Request logs are off by default; on here, so that the secrets test also reads what requests write.
        info.Environment["Logging__LogLevel__Microsoft.AspNetCore"] = "Information";
        foreach (var (key, value) in environment) info.Environment[key] = value;

        Directory.CreateDirectory(logDirectory);
        // One file per process: instances and restarts of a service are told apart when a test fails.
        var logPath = Path.Combine(logDirectory, $"{name.ToLowerInvariant()}-{url.Port}-{DateTime.UtcNow:HHmmssfff}.log");
        var log = new StreamWriter(logPath, append: true) { AutoFlush = true };
        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new ServiceProcess(name, process, log, logPath, url, new Uri(info.Environment["METERING_MANAGEMENT_URL"]!));
    }

    public async Task WaitUntilReadyAsync(HttpClient http, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited) throw new InvalidOperationException($"{Name} exited with code {_process.ExitCode}; see its log.");
            try
            {
                using var response = await http.GetAsync(new Uri(Url, "/healthz/ready"));
                if (response.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            await Task.Delay(250);
        }
        throw new TimeoutException($"{Name} was not ready within {timeout}.");
    }

    /// <summary>SIGKILL: no shutdown hooks, no flushing, no offset commits — a crash.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        lock (_log) _log.Dispose();
    }

    /// <summary>The service's build output of the same configuration as this test assembly (bin/Release or bin/Debug).</summary>
    internal static string OutputOf(string name) => BuildOutput.Dll("services", $"Metering.{name}");
}
