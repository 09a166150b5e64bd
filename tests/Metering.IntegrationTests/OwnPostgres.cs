using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Metering.IntegrationTests;

/// <summary>
/// A PostgreSQL cluster of the test's own (initdb into a temporary folder, its own port, trust authentication on
/// 127.0.0.1 only), for tests that stop the database under the services: the shared test server is never touched.
/// As root, initdb and pg_ctl run as the <c>postgres</c> user (PostgreSQL refuses root), like <c>./metering</c> does.
/// </summary>
public sealed class OwnPostgres : IAsyncDisposable
{
    public const string User = "metering";
    private readonly string _bin;
    private readonly string _home;

    private OwnPostgres(string bin, string home, int port)
    {
        _bin = bin;
        _home = home;
        Port = port;
    }

    public int Port { get; }
    private string Data => Path.Combine(_home, "data");
    public string LogPath => Path.Combine(_home, "postgres.log");

    public string ConnectionString(string database) =>
        new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = Port, Username = User, Database = database }.ConnectionString;

    public static async Task<OwnPostgres> StartAsync()
    {
        var bin = Directory.GetDirectories("/usr/lib/postgresql").Select(v => Path.Combine(v, "bin"))
                      .FirstOrDefault(b => File.Exists(Path.Combine(b, "initdb")))
                  ?? throw new InvalidOperationException("PostgreSQL is not installed (/usr/lib/postgresql/*/bin/initdb); ./metering installs it.");
        var home = Path.Combine(Path.GetTempPath(), $"metering-own-pg-{Guid.NewGuid():N}");
        Directory.CreateDirectory(home);
        var postgres = new OwnPostgres(bin, home, FreePort());
        if (IsRoot) await Run("chown", ["postgres:postgres", home]);
        await postgres.Tool("initdb", ["-D", postgres.Data, "-U", User, "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8"]);
        await postgres.StartAgainAsync();
        return postgres;
    }

    /// <summary>Creates an empty database in this cluster; returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string name)
    {
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var create = new NpgsqlCommand($"create database \"{name}\"", connection);
        await create.ExecuteNonQueryAsync();
        return ConnectionString(name);
    }

    /// <summary>
    /// <c>pg_ctl -m immediate</c>: every server process is killed at once, without a checkpoint or closing its clients'
    /// connections properly, as in a crash; the next start recovers from the write-ahead log.
    /// </summary>
    public Task StopImmediatelyAsync() => Tool("pg_ctl", ["-D", Data, "-m", "immediate", "-w", "stop"]);

    /// <summary>Starts the cluster (again) on the same port and waits until it accepts connections.</summary>
    public Task StartAgainAsync() => Tool("pg_ctl", ["-D", Data, "-l", LogPath, "-w", "-t", "60",
        "-o", $"-p {Port} -c listen_addresses=127.0.0.1 -k {_home} -c max_connections=200 -c fsync=off", "start"]);

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        try
        {
            await Tool("pg_ctl", ["-D", Data, "-m", "immediate", "-w", "stop"]);
        }
        catch (InvalidOperationException)
        {
            // already stopped
        }
        Directory.Delete(_home, recursive: true);
    }

    private static bool IsRoot => Environment.UserName == "root";

    private Task Tool(string name, IReadOnlyList<string> arguments) =>
        IsRoot ? Run("runuser", ["-u", "postgres", "--", Path.Combine(_bin, name), .. arguments]) : Run(Path.Combine(_bin, name), arguments);

    private static async Task Run(string file, IReadOnlyList<string> arguments)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(90));
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{Path.GetFileName(file)} {string.Join(' ', arguments)} exited with {process.ExitCode}: {await output}{await error}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
