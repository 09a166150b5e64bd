namespace Metering.EndToEndTests;

/// <summary>Tokens and the database password never reach the services' logs, not even when a request presents a wrong token.</summary>
[Collection(MeteringSystemCollection.Name)]
public sealed class SecretsInLogsTests(MeteringSystem system)
{
    [Fact]
    public async Task No_token_or_connection_password_is_logged()
    {
        const string wrongToken = "a-wrong-token-that-must-not-be-logged";
        var calls = new (ServiceProcess Service, string Path, string Token, HttpStatusCode Expected)[]
        {
            (system.Ingest, "/v1/usage", wrongToken, HttpStatusCode.Unauthorized),
            (system.Budgets, "/v1/tenants/secrets-check/budget", MeteringSystem.AdminToken, HttpStatusCode.OK),
            (system.Budgets, "/v1/tenants/secrets-check/budget", MeteringSystem.EmitterToken, HttpStatusCode.OK),
            (system.Billing, "/v1/invoices/secrets-check/2026-01", MeteringSystem.ViewerTokens["e2e-nlp"], HttpStatusCode.Forbidden),
            (system.Billing, "/v1/teams", wrongToken, HttpStatusCode.Unauthorized),
        };
        foreach (var (service, path, token, expected) in calls)
        {
            using var response = await system.Http.SendAsync(system.Request(HttpMethod.Get, service, path, token));
            if (path != "/v1/usage") Assert.Equal(expected, response.StatusCode);
        }

        // The local password is a plain word ("metering"), so it is looked for where a password would be written.
        var password = new NpgsqlConnectionStringBuilder(system.PostgresConnectionString).Password;
        Assert.False(string.IsNullOrEmpty(password));
        var passwordWritten = new System.Text.RegularExpressions.Regex($@"(?i)(password|pwd)\W{{0,3}}{System.Text.RegularExpressions.Regex.Escape(password!)}");
        string[] secrets = [MeteringSystem.AdminToken, MeteringSystem.EmitterToken, wrongToken, .. MeteringSystem.ViewerTokens.Values];
        foreach (var service in new[] { system.Ingest, system.Budgets, system.Billing })
        {
            var log = await ReadSharedAsync(service.LogPath);
            Assert.True(log.Length > 0, $"{service.Name} has logged nothing");
            foreach (var secret in secrets) Assert.False(log.Contains(secret, StringComparison.Ordinal), $"{service.Name}'s log holds a token ({secret.Length} characters)");
            Assert.False(passwordWritten.IsMatch(log), $"{service.Name}'s log holds the database password");
        }
    }

    private static async Task<string> ReadSharedAsync(string path)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync();
    }
}
