using System.Diagnostics;

namespace Metering.Testing;

/// <summary>
/// A program a test starts with its arguments as a list (no shell, no quoting) and its standard output redirected:
/// either run to its end (<see cref="RunAsync"/>) or kept running and spoken to by lines until disposed, which kills
/// it and whatever it started.
/// </summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private readonly Process _process;

    private ChildProcess(Process process) => _process = process;

    public static ChildProcess Start(string program, IEnumerable<string> arguments) =>
        new(Process.Start(StartInfo(program, arguments, redirectInput: true))!);

    /// <summary>Runs the program to its end; throws with what it wrote when it fails or takes longer than <paramref name="timeout"/>.</summary>
    public static async Task RunAsync(string program, IEnumerable<string> arguments, TimeSpan timeout)
    {
        var info = StartInfo(program, arguments, redirectInput: false);
        info.RedirectStandardError = true;
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', info.ArgumentList)} ran longer than {timeout.TotalSeconds:F0} s and was killed");
        }
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{program} {string.Join(' ', info.ArgumentList)} exited with {process.ExitCode}: {await output}{await error}");
    }

    /// <summary>The next line the program writes, or null when it ended; throws after <paramref name="timeout"/>.</summary>
    public Task<string?> ReadLineAsync(TimeSpan timeout) => _process.StandardOutput.ReadLineAsync().WaitAsync(timeout);

    public async Task WriteLineAsync(string line)
    {
        await _process.StandardInput.WriteLineAsync(line);
        await _process.StandardInput.FlushAsync();
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

    private static ProcessStartInfo StartInfo(string program, IEnumerable<string> arguments, bool redirectInput) =>
        new(program, arguments) { RedirectStandardInput = redirectInput, RedirectStandardOutput = true, UseShellExecute = false };
}
