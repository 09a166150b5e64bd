using System.Diagnostics;

namespace Metering.DeploymentTests.Checks;

/// <summary>
/// Renders a kustomization with `kubectl kustomize` (rendering needs no cluster). <c>./metering test</c> provides a
/// kubectl in <c>METERING_KUBECTL</c> (fetched once when the machine has none recent enough); else the one on PATH.
/// </summary>
public static class Kustomize
{
    public static string Render(string directory)
    {
        var kubectl = Environment.GetEnvironmentVariable("METERING_KUBECTL") is { Length: > 0 } configured ? configured : "kubectl";
        var start = new ProcessStartInfo(kubectl, ["kustomize", directory])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("kubectl is needed to render the Kustomize overlays: run the tests with ./metering test, which provides one", e);
        }
        using (process)
        {
            var stderr = process.StandardError.ReadToEndAsync();
            var output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
                throw new InvalidOperationException($"kubectl kustomize {directory} failed: {stderr.Result}");
            return output;
        }
    }
}
