using System.Diagnostics;

namespace Metering.IntegrationTests;

/// <summary>
/// A development Kafka broker of the test's own, started as a process, so that faults injected into it (brokers down,
/// failing requests) touch nothing else.
/// </summary>
public sealed class DevKafkaProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _bootstrapFile;

    private DevKafkaProcess(Process process, string bootstrapFile, string bootstrapServers, string readyLine)
    {
        _process = process;
        _bootstrapFile = bootstrapFile;
        BootstrapServers = bootstrapServers;
        ReadyLine = readyLine;
    }

    public string BootstrapServers { get; }

    /// <summary>What the broker printed once it was ready: its address, topics and bound.</summary>
    public string ReadyLine { get; }

    public static async Task<DevKafkaProcess> StartAsync()
    {
        var bootstrapFile = Path.Combine(Path.GetTempPath(), $"metering-devkafka-{Guid.NewGuid():N}");
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Dll());
        info.ArgumentList.Add("--bootstrap-file");
        info.ArgumentList.Add(bootstrapFile);
        var process = Process.Start(info)!;
        var ready = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
        if (ready is null || !ready.StartsWith("dev kafka broker ready", StringComparison.Ordinal))
            throw new InvalidOperationException($"the development broker did not start: {ready}");
        return new DevKafkaProcess(process, bootstrapFile, await File.ReadAllTextAsync(bootstrapFile), ready);
    }

    /// <summary>Sends one fault command (see infra/Metering.DevKafka/FaultCommands.cs) and waits for its answer.</summary>
    public async Task SendAsync(string command)
    {
        await _process.StandardInput.WriteLineAsync(command);
        await _process.StandardInput.FlushAsync();
        var answer = await _process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10));
        if (answer != "ok") throw new InvalidOperationException($"'{command}' answered '{answer}'");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        File.Delete(_bootstrapFile);
    }

    private static string Dll()
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var dll = Path.Combine(dir.FullName, "infra", "Metering.DevKafka", "bin", configuration, "net10.0", "Metering.DevKafka.dll");
            if (File.Exists(dll)) return dll;
        }
        throw new FileNotFoundException("Metering.DevKafka.dll not found; build the solution first.");
    }
}
