using System.Diagnostics;
using System.Globalization;
using Metering.Benchmarks;
using Npgsql;

namespace Metering.Billing.Benchmarks;

/// <summary>
/// The CPU a phase of a benchmark cost: this process's (<see cref="Process.TotalProcessorTime"/>) and that of the
/// PostgreSQL backends serving this database (utime + stime of <c>/proc/PID/stat</c> by <see cref="ProcStat"/>, PostgreSQL on this machine), and the
/// WAL it wrote (<c>pg_current_wal_lsn()</c>: the whole cluster's, so other databases' writes meanwhile count too).
/// A backend that ended during the phase is not counted (the pools keep theirs open); one whose pid was reused counts whole.
/// </summary>
public sealed class ResourceMeter
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly TimeSpan _processStart;
    private readonly Dictionary<int, ProcStat> _backendStart;
    private readonly string _walStart;

    private ResourceMeter(NpgsqlDataSource dataSource, TimeSpan processStart, Dictionary<int, ProcStat> backendStart, string walStart) =>
        (_dataSource, _processStart, _backendStart, _walStart) = (dataSource, processStart, backendStart, walStart);

    public static async Task<ResourceMeter> StartAsync(NpgsqlDataSource dataSource, CancellationToken ct)
    {
        var (backends, wal) = await BackendsAsync(dataSource, ct);
        return new ResourceMeter(dataSource, Process.GetCurrentProcess().TotalProcessorTime, backends, wal);
    }

    /// <summary>The phase's cost per event; as text, a report line's tail.</summary>
    public async Task<ResourceUse> StopAsync(long events, CancellationToken ct)
    {
        var process = Process.GetCurrentProcess().TotalProcessorTime - _processStart;
        var (backends, wal) = await BackendsAsync(_dataSource, ct);
        var postgresTicks = backends.Values.Sum(b => _backendStart.TryGetValue(b.Pid, out var then) && then.StartTicks == b.StartTicks ? b.Ticks - then.Ticks : b.Ticks);
        await using var diff = _dataSource.CreateCommand("select pg_wal_lsn_diff(@end::pg_lsn, @start::pg_lsn)::bigint");
        diff.Parameters.AddWithValue("end", wal);
        diff.Parameters.AddWithValue("start", _walStart);
        var walBytes = (long)(await diff.ExecuteScalarAsync(ct))!;
        var processUs = process.TotalMicroseconds / events;
        var postgresUs = (double)postgresTicks / ClockTicks.PerSecond * 1_000_000 / events;
        return new ResourceUse(processUs, postgresUs, (double)walBytes / events);
    }

    private static async Task<(Dictionary<int, ProcStat> Backends, string Wal)> BackendsAsync(NpgsqlDataSource dataSource, CancellationToken ct)
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
        var stats = new Dictionary<int, ProcStat>();
        foreach (var pid in pids)
            if (ProcStat.Read(pid) is { } stat) stats[pid] = stat;
        return (stats, wal);
    }
}

/// <summary>What a phase cost per event: this process's CPU, its PostgreSQL backends' CPU (µs) and the WAL written (bytes).</summary>
public sealed record ResourceUse(double ProcessMicroseconds, double PostgresMicroseconds, double WalBytes)
{
    public double TotalMicroseconds => ProcessMicroseconds + PostgresMicroseconds;

    /// <summary>The phase's figures in the summary block, each name starting with <paramref name="phase"/>.</summary>
    public void AddTo(BenchmarkSummary summary, string phase)
    {
        summary.Add($"{phase} cpu total", TotalMicroseconds, "µs/event", "F1");
        summary.Add($"{phase} cpu billing", ProcessMicroseconds, "µs/event", "F1");
        summary.Add($"{phase} cpu postgres", PostgresMicroseconds, "µs/event", "F1");
        summary.Add($"{phase} wal", WalBytes, "bytes/event");
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{TotalMicroseconds:F1} µs of CPU per event (Billing's code {ProcessMicroseconds:F1}, PostgreSQL backends {PostgresMicroseconds:F1}), {WalBytes:F0} bytes of WAL per event");
}
