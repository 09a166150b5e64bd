using System.Diagnostics;

namespace Metering.EndToEndTests;

/// <summary>Outside Development a service refuses the development tokens and says why, before it touches anything.</summary>
public sealed class SafeDefaultsTests
{
    [Theory]
    [InlineData("Ingest")]
    [InlineData("Budgets")]
    [InlineData("Billing")]
    public async Task In_production_a_service_with_the_development_tokens_exits_with_a_clear_message(string service)
    {
        var info = new ProcessStartInfo("dotnet", ServiceProcess.OutputOf(service))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = ServiceProcess.RepositoryRoot,
        };
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        info.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{ServiceProcess.FreePort()}";
        info.Environment["METERING_ADMIN_TOKEN"] = "dev-admin-token";
        info.Environment["METERING_EMITTER_TOKEN"] = "a-real-secret-emitter-token";
        // Unreachable on purpose: the refusal must come before any connection is made.
        info.Environment["METERING_POSTGRES"] = "Host=127.0.0.1;Port=1;Username=x;Password=y;Database=z";
        info.Environment["KAFKA_BOOTSTRAP_SERVERS"] = "127.0.0.1:1";

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);

        Assert.NotEqual(0, process.ExitCode);
        var text = await output + await errors;
        Assert.Contains("METERING_ADMIN_TOKEN is the development default; set a secret token outside Development.", text);
        Assert.DoesNotContain("a-real-secret-emitter-token", text);
    }
}
