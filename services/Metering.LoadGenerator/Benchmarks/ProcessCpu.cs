using System.Runtime.InteropServices;
using Npgsql;

namespace Metering.LoadGenerator.Benchmarks;

/// <summary>
/// One line of <c>/proc/&lt;pid&gt;/stat</c>: the process's name (which may hold spaces and parentheses, so it runs to
/// the last ')'), its parent, the CPU it used in user and kernel mode and when it started, in clock ticks.
/// </summary>
public readonly record struct ProcStat(int Pid, string Name, int ParentPid, long UserTicks, long SystemTicks, long StartTicks)
{
    public long Ticks => UserTicks + SystemTicks;

    public static ProcStat Parse(string line)
    {
        var open = line.IndexOf('(', StringComparison.Ordinal);
        var close = line.LastIndexOf(')');
        if (open < 1 || close < open) throw new FormatException($"not a /proc/<pid>/stat line: '{line}'");
        // After the name: state (field 3), ppid (4), ..., utime (14), stime (15), ..., starttime (22).
        var fields = line[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 20) throw new FormatException($"a /proc/<pid>/stat line with {fields.Length} fields after the name: '{line}'");
        long Field(int number) => long.Parse(fields[number - 3], CultureInfo.InvariantCulture);
        return new ProcStat(int.Parse(line[..open].Trim(), CultureInfo.InvariantCulture), line[(open + 1)..close], (int)Field(4), Field(14), Field(15), Field(22));
    }

    /// <summary>The process's line now; null when it no longer exists (or cannot be read).</summary>
    public static ProcStat? Read(int pid)
    {
        try
        {
            return Parse(File.ReadAllText($"/proc/{pid}/stat"));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Every process whose parent is <paramref name="parent"/>, found by scanning <c>/proc</c>.</summary>
    public static IEnumerable<int> ChildrenOf(int parent)
    {
        foreach (var folder in Directory.EnumerateDirectories("/proc"))
            if (int.TryParse(Path.GetFileName(folder), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && Read(pid) is { } stat && stat.ParentPid == parent)
                yield return pid;
    }
}

/// <summary>The machine's CPU time from the first line of <c>/proc/stat</c>: busy (all but idle and iowait) and in all, in clock ticks.</summary>
public readonly record struct MachineCpu(long BusyTicks, long AllTicks)
{
    public static MachineCpu Parse(string procStat)
    {
        var line = procStat.Split('\n')[0];
        if (!line.StartsWith("cpu ", StringComparison.Ordinal)) throw new FormatException($"not the first line of /proc/stat: '{line}'");
        // user nice system idle iowait irq softirq steal [guest guest_nice]; guest time is already inside user and nice.
        var ticks = line[4..].Split(' ', StringSplitOptions.RemoveEmptyEntries).Take(8).Select(t => long.Parse(t, CultureInfo.InvariantCulture)).ToArray();
        var all = ticks.Sum();
        return new MachineCpu(all - ticks[3] - ticks[4], all);
    }

    public static MachineCpu Read() => Parse(File.ReadAllText("/proc/stat"));
}

/// <summary>A named set of processes whose CPU is summed; <see cref="Counted"/> false: printed apart, not in the total.</summary>
public sealed record CpuGroup(string Name, Func<CancellationToken, Task<IReadOnlyCollection<int>>> Pids, bool Counted = true)
{
    public static CpuGroup Of(string name, params int[] pids) => new(name, _ => Task.FromResult<IReadOnlyCollection<int>>(pids.Where(p => p > 0).ToArray()));
}

/// <summary>What every group's processes had used at one moment: per group, per process its start and its ticks.</summary>
public sealed record CpuSnapshot(TimeSpan At, MachineCpu Machine, IReadOnlyDictionary<string, IReadOnlyDictionary<int, ProcStat>> Groups)
{
    public static async Task<CpuSnapshot> TakeAsync(IReadOnlyList<CpuGroup> groups, Stopwatch clock, CancellationToken ct)
    {
        var taken = new Dictionary<string, IReadOnlyDictionary<int, ProcStat>>(StringComparer.Ordinal);
        foreach (var group in groups)
        {
            var stats = new Dictionary<int, ProcStat>();
            foreach (var pid in await group.Pids(ct))
                if (ProcStat.Read(pid) is { } stat) stats[pid] = stat;
            taken[group.Name] = stats;
        }
        return new CpuSnapshot(clock.Elapsed, MachineCpu.Read(), taken);
    }
}

/// <summary>
/// The CPU each group used between two snapshots, and the machine's. A process only in the second snapshot (or with
/// another start time: its pid was reused) started in between, so all its ticks count; one only in the first ended in
/// between, and what it used since the first is lost (counted in <see cref="Ended"/>).
/// </summary>
public sealed record CpuUse(TimeSpan Window, long Events, long TicksPerSecond, int Cores, IReadOnlyList<CpuUse.Group> Groups, long MachineBusyTicks, long MachineAllTicks)
{
    public sealed record Group(string Name, long Ticks, int Processes, int Ended, bool Counted);

    public static CpuUse Between(CpuSnapshot before, CpuSnapshot after, IReadOnlyList<CpuGroup> groups, long events, long ticksPerSecond, int cores) =>
        new(after.At - before.At, events, ticksPerSecond, cores, groups.Select(g =>
        {
            var was = before.Groups.GetValueOrDefault(g.Name) ?? new Dictionary<int, ProcStat>();
            var now = after.Groups.GetValueOrDefault(g.Name) ?? new Dictionary<int, ProcStat>();
            var ticks = now.Values.Sum(p => was.TryGetValue(p.Pid, out var then) && then.StartTicks == p.StartTicks ? Math.Max(0, p.Ticks - then.Ticks) : p.Ticks);
            return new Group(g.Name, ticks, now.Count, was.Keys.Count(pid => !now.ContainsKey(pid)), g.Counted);
        }).ToList(), after.Machine.BusyTicks - before.Machine.BusyTicks, after.Machine.AllTicks - before.Machine.AllTicks);

    public double MicrosecondsPerEvent(long ticks) => Events == 0 ? double.NaN : ticks * 1e6 / TicksPerSecond / Events;

    public long CountedTicks => Groups.Where(g => g.Counted).Sum(g => g.Ticks);

    /// <summary>Of the machine's capacity over the window (cores × window), the share that was busy.</summary>
    public double MachineBusyShare => MachineAllTicks == 0 ? 0 : (double)MachineBusyTicks / MachineAllTicks;

    /// <summary>
    /// <c>cpu per event: ingest 21 µs, ... = 113 µs of CPU per event</c>, then the machine's busy time per event and what
    /// of it no group accounts for (other processes on the machine), and the groups printed apart.
    /// </summary>
    public override string ToString()
    {
        string Us(long ticks) => string.Create(CultureInfo.InvariantCulture, $"{MicrosecondsPerEvent(ticks):F0} µs");
        var counted = string.Join(", ", Groups.Where(g => g.Counted).Select(g => $"{g.Name} {Us(g.Ticks)}"));
        var apart = Groups.Where(g => !g.Counted).Select(g => $"{g.Name} {Us(g.Ticks)}").ToList();
        var ended = Groups.Where(g => g.Ended > 0).Select(g => $"{g.Ended} of {g.Name} ended in the window, their last CPU lost").ToList();
        return string.Create(CultureInfo.InvariantCulture,
            $"cpu per event: {counted} = {Us(CountedTicks)} of CPU per event ({Events:N0} events in {Window.TotalSeconds:F1} s); " +
            $"machine busy {Us(MachineBusyTicks)} per event, {Us(Math.Max(0, MachineBusyTicks - CountedTicks))} of it elsewhere " +
            $"({MachineBusyShare:P0} of {Cores} cores)") +
            (apart.Count > 0 ? $"; apart from the sum: {string.Join(", ", apart)}" : "") +
            (ended.Count > 0 ? $"; {string.Join(", ", ended)}" : "");
    }
}

/// <summary>The processes of the system under test, by role, as the benchmarks measure their CPU.</summary>
public sealed record SystemProcesses
{
    public int Ingest { get; init; }
    public int Budgets { get; init; }
    public int Billing { get; init; }
    public int Broker { get; init; }
    /// <summary>An Npgsql connection string to the benchmark's database; its backends are found in <c>pg_stat_activity</c>.</summary>
    public string Postgres { get; init; } = "";
    /// <summary>The server serves other databases too: its shared processes (postmaster, background) are printed apart from the sum.</summary>
    public bool PostgresShared { get; init; }

    public static long ClockTicksPerSecond { get; } = OperatingSystem.IsLinux() ? SysConf(ClockTicksName) : 100;

    private const int ClockTicksName = 2; // _SC_CLK_TCK

    [DllImport("libc", EntryPoint = "sysconf")]
    private static extern long SysConf(int name);

    /// <summary>
    /// The groups: each service, the broker, PostgreSQL (the database's backends, and the server's postmaster and
    /// background processes: counted when the server is the benchmark's own), and the load generator with <paramref name="loadGenerator"/>'s extra processes.
    /// </summary>
    public IReadOnlyList<CpuGroup> Groups(Func<IReadOnlyCollection<int>>? loadGenerator = null)
    {
        var groups = new List<CpuGroup> { CpuGroup.Of("ingest", Ingest), CpuGroup.Of("budgets", Budgets), CpuGroup.Of("billing", Billing), CpuGroup.Of("broker", Broker) };
        if (Postgres != "")
        {
            groups.Add(new CpuGroup("postgres", ct => PostgresPidsAsync(background: false, ct)));
            groups.Add(new CpuGroup(PostgresShared ? "postgres shared server" : "postgres server", ct => PostgresPidsAsync(background: true, ct), Counted: !PostgresShared));
        }
        groups.Add(new CpuGroup("load generator", _ => Task.FromResult<IReadOnlyCollection<int>>([Environment.ProcessId, .. loadGenerator?.Invoke() ?? []])));
        return groups;
    }

    /// <summary>Backends of this database (and parallel workers, autovacuum of it), or the server's postmaster and background processes.</summary>
    private async Task<IReadOnlyCollection<int>> PostgresPidsAsync(bool background, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(Postgres);
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand(background
            ? "select pid from pg_stat_activity where datname is null"
            : "select pid from pg_stat_activity where datname = current_database()", connection);
        var pids = new List<int>();
        await using (var reader = await command.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct)) pids.Add(reader.GetInt32(0));
        if (background && pids.Count > 0 && ProcStat.Read(pids[0]) is { } child) pids.Add(child.ParentPid);
        return pids;
    }
}

/// <summary>Measures the system's CPU over a window: a snapshot at its start, one at its end.</summary>
public sealed class CpuWindow
{
    private readonly IReadOnlyList<CpuGroup> _groups;
    private readonly Stopwatch _clock;
    private readonly CpuSnapshot _before;

    private CpuWindow(IReadOnlyList<CpuGroup> groups, Stopwatch clock, CpuSnapshot before) => (_groups, _clock, _before) = (groups, clock, before);

    public static async Task<CpuWindow> StartAsync(IReadOnlyList<CpuGroup> groups, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        return new CpuWindow(groups, clock, await CpuSnapshot.TakeAsync(groups, clock, ct));
    }

    /// <param name="events">The events sent in the window, that the CPU is divided by.</param>
    public async Task<CpuUse> EndAsync(long events, CancellationToken ct) =>
        CpuUse.Between(_before, await CpuSnapshot.TakeAsync(_groups, _clock, ct), _groups, events, SystemProcesses.ClockTicksPerSecond, Environment.ProcessorCount);
}
