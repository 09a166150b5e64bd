using System.Text;
using System.Text.RegularExpressions;

namespace Metering.LoadGenerator.Benchmarks;

/// <summary>
/// The simulated fleet's usage as a background load, sent by another load-generator process, as inference services
/// would: a benchmark that times requests in this process is then not slowed by producing the load (its threads and
/// its collections), only by what the load does to the system under test.
/// </summary>
public sealed partial class FleetProcess : IAsyncDisposable
{
    /// <summary>How long the fleet has, once told to stop, to send what it had generated and report; then it is killed.</summary>
    public static readonly TimeSpan StopPatience = TimeSpan.FromSeconds(30);

    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private FleetProcess(Process process) => _process = process;

    public int Pid => _process.Id;

    /// <summary>How the fleet ended: the rate it reported, or why there is none (it was killed, or it failed).</summary>
    public sealed record Stopped(double? EventsPerSecond, string? Problem, string OutputTail)
    {
        public override string ToString() => Problem is null
            ? string.Create(CultureInfo.InvariantCulture, $"the fleet sent {EventsPerSecond:F0} events/s")
            : $"the fleet {Problem}";
    }

    /// <param name="via"><c>kafka</c> (the emitter library) or <c>http</c> (Ingest).</param>
    public static FleetProcess Start(double eventsPerSecond, string tenantPrefix, string via, Uri ingest, string token, string bootstrap, int batch = LoadRun.DefaultBatchSize)
    {
        // The load generator as this process runs it: 'dotnet Metering.LoadGenerator.dll' (the process path is then
        // dotnet) or its apphost; from another program (a test host), through the dotnet that started that.
        var self = typeof(FleetProcess).Assembly;
        var viaDotnet = Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" || System.Reflection.Assembly.GetEntryAssembly() != self;
        var program = Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" || !viaDotnet
            ? Environment.ProcessPath!
            : Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (viaDotnet) info.ArgumentList.Add(self.Location);
        foreach (var argument in new[]
                 {
                     "--via", via, "--rate", eventsPerSecond.ToString(CultureInfo.InvariantCulture), "--duration", "86400", "--tenants", "100",
                     "--batch", batch.ToString(CultureInfo.InvariantCulture),
                     "--tenant-prefix", tenantPrefix, "--ingest", ingest.ToString(), "--token", token, "--bootstrap", bootstrap, "--stop-at-end-of-input",
                 })
            info.ArgumentList.Add(argument);
        var fleet = new FleetProcess(Process.Start(info)!);
        fleet._process.OutputDataReceived += (_, e) => fleet.Keep(e.Data);
        fleet._process.ErrorDataReceived += (_, e) => fleet.Keep(e.Data);
        fleet._process.BeginOutputReadLine();
        fleet._process.BeginErrorReadLine();
        return fleet;
    }

    /// <summary>
    /// Stops the load as Ctrl-C would, by closing the fleet's standard input (it then sends what it had generated and reports it). A fleet that has not
    /// ended within <paramref name="patience"/> (default <see cref="StopPatience"/>) is killed; either way this returns, with the rate or the problem.
    /// </summary>
    public async Task<Stopped> StopAsync(TimeSpan? patience = null)
    {
        var wait = patience ?? StopPatience;
        // Not SIGINT: a benchmark started in the background (nohup, '&' in a script) hands its children SIGINT ignored.
        if (!_process.HasExited) _process.StandardInput.Close();
        string? problem = null;
        try
        {
            await _process.WaitForExitAsync().WaitAsync(wait);
        }
        catch (TimeoutException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
            problem = $"did not stop within {wait.TotalSeconds:F0} s of being told to and was killed";
        }
        string output;
        lock (_output) output = _output.ToString();
        var tail = output[^Math.Min(2000, output.Length)..];
        var sent = SentLine().Match(output);
        if (problem is null && !sent.Success) problem = $"exited with code {_process.ExitCode} without reporting what it sent";
        return new Stopped(sent.Success ? double.Parse(sent.Groups["rate"].Value, CultureInfo.InvariantCulture) : null, problem, tail);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    // The per-tenant table is long and not needed here: the last lines (the totals, the progress) tell how it ended.
    private void Keep(string? line)
    {
        if (line is null) return;
        lock (_output)
        {
            _output.AppendLine(line);
            if (_output.Length > 64_000) _output.Remove(0, _output.Length - 32_000);
        }
    }

    [GeneratedRegex(@"sent \d+ events in [\d.]+ s \((?<rate>\d+) events/s\)")]
    private static partial Regex SentLine();
}
