namespace Metering.Testing;

/// <summary>
/// A development Kafka broker of the test's own, started as a process, so that faults injected into it (brokers down,
/// failing requests) touch nothing else.
/// </summary>
public sealed class DevKafkaProcess : IAsyncDisposable
{
    private readonly ChildProcess _process;

    private DevKafkaProcess(ChildProcess process, string bootstrapServers, string readyLine) =>
        (_process, BootstrapServers, ReadyLine) = (process, bootstrapServers, readyLine);

    public string BootstrapServers { get; }

    /// <summary>What the broker printed once it was ready: its address, topics and bound.</summary>
    public string ReadyLine { get; }

    public static async Task<DevKafkaProcess> StartAsync()
    {
        var bootstrapFile = Path.Combine(Path.GetTempPath(), $"metering-devkafka-{Guid.NewGuid():N}");
        var process = ChildProcess.Start("dotnet", [BuildOutput.Dll("infra", "Metering.DevKafka"), "--bootstrap-file", bootstrapFile]);
        var ready = await process.ReadLineAsync(TimeSpan.FromSeconds(30));
        if (ready is null || !ready.StartsWith("dev kafka broker ready", StringComparison.Ordinal))
        {
            await process.DisposeAsync();
            throw new InvalidOperationException($"the development broker did not start: {ready}");
        }
        var bootstrapServers = await File.ReadAllTextAsync(bootstrapFile);
        File.Delete(bootstrapFile);
        return new DevKafkaProcess(process, bootstrapServers, ready);
    }

    /// <summary>Sends one fault command (see infra/Metering.DevKafka/FaultCommands.cs) and waits for its answer.</summary>
    public async Task SendAsync(string command)
    {
        await _process.WriteLineAsync(command);
        var answer = await _process.ReadLineAsync(TimeSpan.FromSeconds(10));
        if (answer != "ok") throw new InvalidOperationException($"'{command}' answered '{answer}'");
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
