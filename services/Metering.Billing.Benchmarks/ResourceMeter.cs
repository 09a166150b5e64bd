using System.Diagnostics;
using System.Globalization;
using Npgsql;

namespace Metering.Billing.Benchmarks;

/// <summary>
/// The CPU a phase of a benchmark cost: this process's (<see cref="Process.TotalProcessorTime"/>) and that of the
/// PostgreSQL backends serving this database (utime + stime of <c>/proc/PID/stat</c>, PostgreSQL on this machine), and the
/// WAL it wrote (<c>pg_current_wal_lsn()</c>: the whole cluster's, so other databases' writes meanwhile count too).
/// A backend that ended during the phase is not counted (the pools keep theirs open).
/// </summary>
public sealed class ResourceMeter
{
    // USER_HZ: the unit of /proc's CPU times on Linux.
    private const double TicksPerSecond = 100;

    private readonly NpgsqlDataSource _dataSource;
    private readonly TimeSpan _processStart;
    private readonly Dictionary<int, long> _backendStart;
    private readonly string _walStart;

    private ResourceMeter(NpgsqlDataSource dataSource, TimeSpan processStart, Dictionary<int, long> backendStart, string walStart) =>
        (_dataSource, _processStart, _backendStart, _walStart) = (dataSource, processStart, backendStart, walStart);

    public static async Task<ResourceMeter> StartAsync(NpgsqlDataSource dataSource, CancellationToken ct)
    {
        var (backends, wal) = await BackendsAsync(dataSource, ct);
        return new ResourceMeter(dataSource, Process.GetCurrentProcess().TotalProcessorTime, backends, wal);
    }

    /// <summary>The phase's cost per event, as a report line's tail.</summary>
    public async Task<string> StopAsync(long events, CancellationToken ct)
    {
        var process = Process.GetCurrentProcess().TotalProcessorTime - _processStart;
        var (backends, wal) = await BackendsAsync(_dataSource, ct);
        var postgresTicks = backends.Sum(b => b.Value - _backendStart.GetValueOrDefault(b.Key));
        await using var diff = _dataSource.CreateCommand("select pg_wal_lsn_diff(@end::pg_lsn, @start::pg_lsn)::bigint");
        diff.Parameters.AddWithValue("end", wal);
        diff.Parameters.AddWithValue("start", _walStart);
        var walBytes = (long)(await diff.ExecuteScalarAsync(ct))!;
        var processUs = process.TotalMicroseconds / events;
        var postgresUs = postgresTicks / TicksPerSecond * 1_000_000 / events;
        return string.Create(CultureInfo.InvariantCulture,
            $"{processUs + postgresUs:F1} µs of CPU per event (Billing's code {processUs:F1}, PostgreSQL backends {postgresUs:F1}), {(double)walBytes / events:F0} bytes of WAL per event");
    }

    private static async Task<(Dictionary<int, long> Backends, string Wal)> BackendsAsync(NpgsqlDataSource dataSource, CancellationToken ct)
    {
        var pids = new List<int>();
        string wal;
        await using (var connection = await dataSource.OpenConnectionAsync(ct))
        {
            await using (var command = new NpgsqlCommand("select pid from pg_stat_activity where datname = current_database()", connection))
            await using (var reader = await command.ExecuteReaderAsync(ct))
                while (await reader.ReadAsync(ct)) pids.Add(reader.GetInt32(0));
            await using var lsn = new NpgsqlCommand("select pg_current_wal_lsn()::text", connection);
            wal = (string)(await lsn.ExecuteScalarAsync(ct))!;
        }
        var ticks = new Dictionary<int, long>();
        foreach (var pid in pids)
            if (CpuTicksOf(pid) is { } cpu) ticks[pid] = cpu;
        return (ticks, wal);
    }

    /// <summary>utime + stime of a process (fields 14 and 15 of /proc/PID/stat, after the command's parenthesis); null when it is gone or elsewhere.</summary>
    private static long? CpuTicksOf(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // fields[0] is field 3 (state): utime is field 14, stime field 15.
            return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
