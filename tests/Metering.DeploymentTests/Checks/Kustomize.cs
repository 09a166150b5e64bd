using System.Diagnostics;

namespace Metering.DeploymentTests.Checks;

/// <summary>
/// Renders a kustomization with `kubectl kustomize` (kubectl, with kustomize built in, ships with the project's machine
/// image; rendering needs no cluster).
/// </summary>
public static class Kustomize
{
    public static string Render(string directory)
    {
        var start = new ProcessStartInfo("kubectl", ["kustomize", directory])
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
            throw new InvalidOperationException("kubectl is needed to render the Kustomize overlays (apt-get install kubectl)", e);
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
