namespace Metering.EndToEndTests;

/// <summary>
/// Outside Development a service never changes the database schema on its own: on an empty database it refuses to
/// start and says what to do; <c>migrate</c> creates the schema and exits; then the service starts.
/// </summary>
public sealed class MigrationTests
{
    [Theory]
    [InlineData("Budgets", "budgets")]
    [InlineData("Billing", "billing")]
    public async Task In_production_the_schema_is_created_only_by_migrate(string service, string schema)
    {
        await using var database = await TestInfrastructure.CreateDatabaseAsync("metering_migrate");
        await using var kafka = await DevKafkaProcess.StartAsync();
        var environment = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["METERING_ADMIN_TOKEN"] = "a-production-admin-token-of-32-characters",
            ["METERING_EMITTER_TOKEN"] = "a-production-emitter-token-of-32-characters",
            ["METERING_POSTGRES"] = database.ConnectionString,
            ["KAFKA_BOOTSTRAP_SERVERS"] = kafka.BootstrapServers,
            ["METERING_ORLEANS_CLUSTER_ID"] = $"migrate-{Guid.NewGuid():N}",
            ["METERING_ORLEANS_SILO_PORT"] = FreePorts.Next().ToString(),
            // One silo on loopback: its links need no TLS (SiloTlsTests covers TLS).
            ["METERING_ORLEANS_TLS"] = "false",
        };

        var refused = await RunToExitAsync(service, [], environment);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains($"{service}'s database schema is missing or out of date", refused.Output);
        Assert.Contains("argument 'migrate'", refused.Output);
        Assert.Equal(0, await TablesIn(database.ConnectionString, schema));

        var migrated = await RunToExitAsync(service, ["migrate"], environment);
        Assert.True(migrated.ExitCode == 0, migrated.Output);
        Assert.True(await TablesIn(database.ConnectionString, schema) > 0);

        await using var started = ServiceProcess.Start(service, environment, Path.Combine(BuildOutput.RepositoryRoot, ".metering", "logs", "e2e"));
        using var http = new HttpClient();
        await started.WaitUntilReadyAsync(http, TimeSpan.FromSeconds(90));
    }

    private static async Task<long> TablesIn(string connectionString, string schema)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select count(*) from information_schema.tables where table_schema = @schema", connection);
        command.Parameters.AddWithValue("schema", schema);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static async Task<(int ExitCode, string Output)> RunToExitAsync(string service, string[] arguments, IReadOnlyDictionary<string, string> environment)
    {
        var info = new ProcessStartInfo("dotnet", [ServiceProcess.OutputOf(service), .. arguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = BuildOutput.RepositoryRoot,
        };
        foreach (var (key, value) in environment) info.Environment[key] = value;
        info.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{FreePorts.Next()}";
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output + await errors);
    }
}
