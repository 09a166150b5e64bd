namespace Metering.EndToEndTests;

/// <summary>
/// A service refuses tokens that would let one role pass for another, or be guessed, and refuses to run its silos in
/// the clear outside Development: it exits with the reason, never with a token in it, before it touches anything.
/// </summary>
public sealed class SafeDefaultsTests
{
    private const string AdminSecret = "an-admin-secret-of-more-than-32-characters";
    private const string EmitterSecret = "an-emitter-secret-of-more-than-32-characters";

    [Theory]
    [InlineData("Ingest")]
    [InlineData("Budgets")]
    [InlineData("Billing")]
    public async Task In_production_a_service_with_the_development_tokens_exits_with_a_clear_message(string service)
    {
        var text = await ExitsAsync(service, "Production", new() { ["METERING_ADMIN_TOKEN"] = "dev-admin-token", ["METERING_EMITTER_TOKEN"] = EmitterSecret });
        Assert.Contains("METERING_ADMIN_TOKEN is the development default; set a secret token outside Development.", text);
        Assert.DoesNotContain(EmitterSecret, text);
    }

    public static TheoryData<string, string, string, string, string> RefusedTokens => new()
    {
        // environment, admin, emitter, viewers, what the service says
        { "Production", AdminSecret, AdminSecret, "", "METERING_ADMIN_TOKEN and METERING_EMITTER_TOKEN are the same token; each role needs a token of its own." },
        { "Development", "e2e-same-token", "e2e-same-token", "", "METERING_ADMIN_TOKEN and METERING_EMITTER_TOKEN are the same token; each role needs a token of its own." },
        { "Production", "short-admin-secret", EmitterSecret, "", "METERING_ADMIN_TOKEN is shorter than 32 characters" },
        { "Production", AdminSecret, "short-emitter-secret", "", "METERING_EMITTER_TOKEN is shorter than 32 characters" },
        { "Production", "dev-emitter-token", EmitterSecret, "", "METERING_ADMIN_TOKEN is the emitter's development token; a development token is accepted only in its own role." },
        { "Development", AdminSecret, "dev-admin-token", "", "METERING_EMITTER_TOKEN is the admin's development token; a development token is accepted only in its own role." },
        { "Development", AdminSecret, EmitterSecret, "nlp=dev-admin-token", "METERING_VIEWER_TOKENS: the token of team 'nlp' is a development token of another role" },
        { "Production", AdminSecret, EmitterSecret, "nlp=short-viewer-secret", "METERING_VIEWER_TOKENS: the token of team 'nlp' is shorter than 32 characters" },
    };

    [Theory, MemberData(nameof(RefusedTokens))]
    public async Task Tokens_that_one_role_shares_with_another_or_that_are_too_short_outside_Development_stop_the_service(
        string environment, string admin, string emitter, string viewers, string message)
    {
        var text = await ExitsAsync("Ingest", environment, new()
        {
            ["METERING_ADMIN_TOKEN"] = admin,
            ["METERING_EMITTER_TOKEN"] = emitter,
            ["METERING_VIEWER_TOKENS"] = viewers,
        });
        Assert.Contains(message, text);
        foreach (var token in new[] { admin, emitter }.Concat(viewers.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(v => v.Split('=')[1])))
            Assert.DoesNotContain(token, text);
    }

    [Fact]
    public async Task In_production_Budgets_without_a_silo_certificate_exits_unless_silo_TLS_is_turned_off()
    {
        var text = await ExitsAsync("Budgets", "Production", new() { ["METERING_ADMIN_TOKEN"] = AdminSecret, ["METERING_EMITTER_TOKEN"] = EmitterSecret });
        Assert.Contains("Silo-to-silo TLS is on (the default outside Development) but METERING_ORLEANS_TLS_CERTIFICATE is not set", text);
        Assert.Contains("METERING_ORLEANS_TLS=false", text);
    }

    /// <summary>Starts the service with unreachable PostgreSQL and Kafka (the refusal must come before any connection) and returns what it wrote.</summary>
    private static async Task<string> ExitsAsync(string service, string environment, Dictionary<string, string> variables)
    {
        var info = new ProcessStartInfo("dotnet", ServiceProcess.OutputOf(service))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = BuildOutput.RepositoryRoot,
        };
        info.Environment["ASPNETCORE_ENVIRONMENT"] = environment;
        info.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{FreePorts.Next()}";
        info.Environment["METERING_MANAGEMENT_URL"] = $"http://127.0.0.1:{FreePorts.Next()}";
        info.Environment["METERING_POSTGRES"] = "Host=127.0.0.1;Port=1;Username=x;Password=y;Database=z";
        info.Environment["KAFKA_BOOTSTRAP_SERVERS"] = "127.0.0.1:1";
        foreach (var (key, value) in variables) info.Environment[key] = value;

        using var process = Process.Start(info)!;
        try
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await process.WaitForExitAsync(timeout.Token);
            Assert.NotEqual(0, process.ExitCode);
            return await output + await errors;
        }
        finally
        {
            // A service that did not refuse would run on: it must not outlive the test.
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
    }
}
