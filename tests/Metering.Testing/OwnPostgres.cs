using System.Globalization;
using System.Runtime.InteropServices;
using Npgsql;

namespace Metering.Testing;

/// <summary>
/// A PostgreSQL cluster of the test's own, in a temporary folder, on a free port of 127.0.0.1, with scram password
/// authentication as <c>./metering</c> sets it up, so that a test can stop it hard, freeze it or restart it without
/// touching the server the other tests share. Run as root (sessions, CI), initdb and pg_ctl run as the
/// <c>postgres</c> user, since PostgreSQL refuses root.
/// </summary>
public sealed class OwnPostgres : IAsyncDisposable
{
    public const string User = "metering";
    public const string Password = "metering";

    private readonly string _home;
    private readonly string _bin;

    private OwnPostgres(string home, string bin, int port)
    {
        _home = home;
        _bin = bin;
        Port = port;
    }

    public int Port { get; }
    private string Data => Path.Combine(_home, "data");
    private string Log => Path.Combine(_home, "postgres.log");

    public string ConnectionString(string database) =>
        new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = Port, Username = User, Password = Password, Database = database }.ConnectionString;

    /// <summary>initdb into a new temporary folder, then starts the server on a free port.</summary>
    public static async Task<OwnPostgres> StartAsync()
    {
        var home = Path.Combine(Path.GetTempPath(), $"metering-pg-{Guid.NewGuid():N}");
        Directory.CreateDirectory(home);
        var postgres = new OwnPostgres(home, Binaries(), FreePorts.Next());
        try
        {
            var passwordFile = Path.Combine(home, "password");
            await File.WriteAllTextAsync(passwordFile, Password + "\n");
            if (Environment.IsPrivilegedProcess) await Run("chown", "-R", "postgres:postgres", home);
            await postgres.AsPostgres("initdb", "-D", postgres.Data, "-U", User, $"--pwfile={passwordFile}", "-A", "scram-sha-256",
                "-E", "UTF8", "--locale=C.UTF-8", "--no-sync");
            File.Delete(passwordFile);
            await postgres.StartAgainAsync();
            return postgres;
        }
        catch
        {
            await postgres.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts the server on the same port and data, after a stop: after <see cref="StopHardAsync"/> it recovers from its WAL first.</summary>
    public Task StartAgainAsync() =>
        AsPostgres("pg_ctl", "-D", Data, "-l", Log, "-w", "-t", "60",
            "-o", $"-p {Port} -c listen_addresses=127.0.0.1 -k {_home} -c max_connections=300 -c shared_buffers=64MB -c fsync=off", "start");

    /// <summary><c>pg_ctl -m immediate</c>: every backend is killed at once, no checkpoint, clients see their connections drop.</summary>
    public Task StopHardAsync() => AsPostgres("pg_ctl", "-D", Data, "-m", "immediate", "-w", "stop");

    /// <summary>
    /// SIGSTOP to the server and every backend: connections stay open and new ones are accepted by the kernel, but
    /// nothing answers — a hung database host, the fault a timeout exists for. <see cref="ThawAsync"/> resumes it.
    /// </summary>
    public Task FreezeAsync() => SignalAll(SigStop);

    public Task ThawAsync() => SignalAll(SigCont);

    public async Task<string> CreateDatabaseAsync(string name)
    {
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var create = new NpgsqlCommand($"create database \"{name}\"", connection);
        await create.ExecuteNonQueryAsync();
        return ConnectionString(name);
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (File.Exists(Path.Combine(Data, "postmaster.pid")))
        {
            await ThawAsync(); // a frozen server would not take the stop signal
            await AsPostgres("pg_ctl", "-D", Data, "-m", "immediate", "-w", "stop").ContinueWith(_ => { }, TaskScheduler.Default);
        }
        Directory.Delete(_home, recursive: true);
    }

    private const int SigStop = 19, SigCont = 18; // Linux

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);

    private async Task SignalAll(int signal)
    {
        var pidFile = Path.Combine(Data, "postmaster.pid");
        if (!File.Exists(pidFile)) return;
        var postmaster = int.Parse((await File.ReadAllLinesAsync(pidFile))[0].Trim(), CultureInfo.InvariantCulture);
        // The postmaster first, so that it forks no new backend while they are being stopped; then its children (backends, workers).
        if (kill(postmaster, signal) != 0) throw new InvalidOperationException($"kill({postmaster}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
        foreach (var child in ChildrenOf(postmaster)) kill(child, signal); // one that just ended needs no signal
    }

    /// <summary>The processes whose parent is <paramref name="parent"/>, from /proc/*/stat (field 4 is the parent's id).</summary>
    private static IEnumerable<int> ChildrenOf(int parent)
    {
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid)) continue;
            string stat;
            try { stat = File.ReadAllText(Path.Combine(directory, "stat")); }
            catch (IOException) { continue; } // the process ended meanwhile
            // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so read after the last ')'.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            if (int.TryParse(fields[1], out var ppid) && ppid == parent) yield return pid;
        }
    }

    private Task AsPostgres(string program, params string[] arguments) =>
        Environment.IsPrivilegedProcess
            ? Run("runuser", ["-u", "postgres", "--", Path.Combine(_bin, program), .. arguments])
            : Run(Path.Combine(_bin, program), arguments);

    private static Task Run(string program, params string[] arguments) => ChildProcess.RunAsync(program, arguments, TimeSpan.FromSeconds(90));

    /// <summary>The newest PostgreSQL of the OS packages, found as <c>./metering</c> finds it.</summary>
    private static string Binaries() =>
        Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Select(version => Path.Combine(version, "bin"))
                .Where(bin => File.Exists(Path.Combine(bin, "initdb")))
                .OrderByDescending(bin => int.TryParse(Path.GetFileName(Path.GetDirectoryName(bin)), out var major) ? major : 0)
                .FirstOrDefault() ?? throw new InvalidOperationException("No PostgreSQL under /usr/lib/postgresql/*/bin: run ./metering test, which installs it.")
            : throw new InvalidOperationException("No PostgreSQL under /usr/lib/postgresql/*/bin: run ./metering test, which installs it.");
}
