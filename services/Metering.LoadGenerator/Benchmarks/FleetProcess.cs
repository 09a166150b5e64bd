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
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private FleetProcess(Process process) => _process = process;

    /// <param name="via"><c>kafka</c> (the emitter library) or <c>http</c> (Ingest).</param>
    public static FleetProcess Start(double eventsPerSecond, string tenantPrefix, string via, Uri ingest, string token, string bootstrap)
    {
        var info = new ProcessStartInfo(Environment.ProcessPath!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // Run as 'dotnet Metering.LoadGenerator.dll' (the process path is then dotnet) or as the apphost itself.
        var entry = typeof(FleetProcess).Assembly.Location;
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet") info.ArgumentList.Add(entry);
        foreach (var argument in new[]
                 {
                     "--via", via, "--rate", eventsPerSecond.ToString(CultureInfo.InvariantCulture), "--duration", "86400", "--tenants", "100",
                     "--tenant-prefix", tenantPrefix, "--ingest", ingest.ToString(), "--token", token, "--bootstrap", bootstrap,
                 })
            info.ArgumentList.Add(argument);
        var fleet = new FleetProcess(Process.Start(info)!);
        fleet._process.OutputDataReceived += (_, e) => { lock (fleet._output) fleet._output.AppendLine(e.Data); };
        fleet._process.ErrorDataReceived += (_, e) => { lock (fleet._output) fleet._output.AppendLine(e.Data); };
        fleet._process.BeginOutputReadLine();
        fleet._process.BeginErrorReadLine();
        return fleet;
    }

    /// <summary>Stops the load as Ctrl-C would (the fleet then reports what it sent) and returns the events per second it sent.</summary>
    public async Task<double> StopAsync()
    {
        if (!_process.HasExited)
        {
            using var interrupt = Process.Start("kill", ["-INT", _process.Id.ToString(CultureInfo.InvariantCulture)]);
            await interrupt.WaitForExitAsync();
        }
        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        string output;
        lock (_output) output = _output.ToString();
        var sent = SentLine().Match(output);
        if (!sent.Success) throw new InvalidOperationException($"The background fleet did not report what it sent:\n{output[^Math.Min(2000, output.Length)..]}");
        return double.Parse(sent.Groups["rate"].Value, CultureInfo.InvariantCulture);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    [GeneratedRegex(@"sent \d+ events in [\d.]+ s \((?<rate>\d+) events/s\)")]
    private static partial Regex SentLine();
}
