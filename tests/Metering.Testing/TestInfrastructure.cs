namespace Metering.Testing;

/// <summary>The PostgreSQL and Kafka that <c>./metering test</c> provisions for the tests.</summary>
public static class TestInfrastructure
{
    public static string Postgres => Required("METERING_POSTGRES");
    public static string KafkaBootstrapServers => Required("KAFKA_BOOTSTRAP_SERVERS");

    /// <summary>
    /// The test server with a session time zone whose date differs from UTC's at this moment (12 hours behind before noon
    /// UTC, 14 ahead after), so that anything dated by the session instead of UTC shows.
    /// </summary>
    public static string PostgresFarFromUtc => FarFromUtc(Postgres);

    public static string FarFromUtc(string connectionString) => new Npgsql.NpgsqlConnectionStringBuilder(connectionString)
    {
        Timezone = DateTime.UtcNow.Hour < 12 ? "Etc/GMT+12" : "Pacific/Kiritimati",
    }.ConnectionString;

    /// <summary>The session's own date, to check that it is not UTC's.</summary>
    public static async Task<DateOnly> SessionDateAsync(Npgsql.NpgsqlDataSource dataSource)
    {
        await using var command = dataSource.CreateCommand("select current_date");
        return (DateOnly)(await command.ExecuteScalarAsync())!;
    }

    public static string UniqueTenant(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..Math.Min(63, prefix.Length + 33)];

    /// <summary>Creates an empty database of its own on the test server; dispose the result to drop it.</summary>
    public static async Task<ScratchDatabase> CreateDatabaseAsync(string prefix)
    {
        var name = $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(63, prefix.Length + 33)];
        await using var connection = new Npgsql.NpgsqlConnection(Postgres);
        await connection.OpenAsync();
        await using var create = new Npgsql.NpgsqlCommand($"create database \"{name}\"", connection);
        await create.ExecuteNonQueryAsync();
        return new ScratchDatabase(name, new Npgsql.NpgsqlConnectionStringBuilder(Postgres) { Database = name }.ConnectionString);
    }

    private static string Required(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"{name} is not set: run the tests with ./metering test, which provisions PostgreSQL and Kafka.");
}

/// <summary>A database created for one fixture and dropped with it, so that global state (rate cards, membership) never leaks between runs.</summary>
public sealed record ScratchDatabase(string Name, string ConnectionString) : IAsyncDisposable
{
    public async ValueTask DisposeAsync()
    {
        Npgsql.NpgsqlConnection.ClearAllPools();
        await using var connection = new Npgsql.NpgsqlConnection(TestInfrastructure.Postgres);
        await connection.OpenAsync();
        await using var drop = new Npgsql.NpgsqlCommand($"drop database if exists \"{Name}\" with (force)", connection);
        await drop.ExecuteNonQueryAsync();
    }
}
