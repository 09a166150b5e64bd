namespace Metering.IntegrationTests;

/// <summary>The fault tests' own PostgreSQL does what they rely on: a hard stop drops every connection, a restart keeps what was committed.</summary>
public sealed class OwnPostgresTests
{
    [Fact]
    public async Task A_hard_stop_drops_connections_and_a_restart_on_the_same_port_keeps_committed_rows()
    {
        await using var postgres = await OwnPostgres.StartAsync();
        var database = await postgres.CreateDatabaseAsync("faults");
        await using (var connection = new NpgsqlConnection(database))
        {
            await connection.OpenAsync();
            await Execute(connection, "create table t (n int); insert into t values (1), (2), (3)");

            await postgres.StopHardAsync();
            await Assert.ThrowsAnyAsync<Exception>(() => Execute(connection, "select 1"));
            await using var refused = new NpgsqlConnection(database + ";Pooling=false");
            await Assert.ThrowsAnyAsync<NpgsqlException>(() => refused.OpenAsync());
        }

        await postgres.StartAgainAsync();
        await using var again = new NpgsqlConnection(database + ";Pooling=false");
        await again.OpenAsync();
        await using var sum = new NpgsqlCommand("select sum(n) from t", again);
        Assert.Equal(6L, await sum.ExecuteScalarAsync());
        Assert.Equal(postgres.Port, new NpgsqlConnectionStringBuilder(again.ConnectionString).Port);
    }

    [Fact]
    public async Task A_frozen_server_accepts_no_query_until_thawed()
    {
        await using var postgres = await OwnPostgres.StartAsync();
        var database = await postgres.CreateDatabaseAsync("faults");
        await using var connection = new NpgsqlConnection(database + ";Pooling=false");
        await connection.OpenAsync();

        await postgres.FreezeAsync();
        var query = Execute(connection, "select 1");
        Assert.NotSame(query, await Task.WhenAny(query, Task.Delay(TimeSpan.FromSeconds(2))));
        await postgres.ThawAsync();
        await query.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Dispose_removes_the_cluster_and_frees_its_port()
    {
        var postgres = await OwnPostgres.StartAsync();
        var database = await postgres.CreateDatabaseAsync("faults");
        await postgres.DisposeAsync();

        await using var connection = new NpgsqlConnection(database + ";Pooling=false");
        await Assert.ThrowsAnyAsync<NpgsqlException>(() => connection.OpenAsync());
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, postgres.Port);
        listener.Start();
    }

    private static async Task Execute(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
