using System.Diagnostics;
using System.Globalization;

namespace Metering.Benchmarks;

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
        // With no events (e.g. bench budgets' authorize alone) there is nothing to divide by: the CPU time itself is printed.
        string Us(long ticks) => Events == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{ticks / (double)TicksPerSecond:F2} s")
            : string.Create(CultureInfo.InvariantCulture, $"{MicrosecondsPerEvent(ticks):F0} µs");
        var counted = string.Join(", ", Groups.Where(g => g.Counted).Select(g => $"{g.Name} {Us(g.Ticks)}"));
        var apart = Groups.Where(g => !g.Counted).Select(g => $"{g.Name} {Us(g.Ticks)}").ToList();
        var ended = Groups.Where(g => g.Ended > 0).Select(g => $"{g.Ended} of {g.Name} ended in the window, their last CPU lost").ToList();
        var (each, of) = Events == 0 ? ("cpu with no events", "") : ("cpu per event", " per event");
        return string.Create(CultureInfo.InvariantCulture,
            $"{each}: {counted} = {Us(CountedTicks)} of CPU{of} ({Events:N0} events in {Window.TotalSeconds:F1} s); " +
            $"machine busy {Us(MachineBusyTicks)}{of}, {Us(Math.Max(0, MachineBusyTicks - CountedTicks))} of it elsewhere " +
            $"({MachineBusyShare:P0} of {Cores} cores)") +
            (apart.Count > 0 ? $"; apart from the sum: {string.Join(", ", apart)}" : "") +
            (ended.Count > 0 ? $"; {string.Join(", ", ended)}" : "");
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
        CpuUse.Between(_before, await CpuSnapshot.TakeAsync(_groups, _clock, ct), _groups, events, ClockTicks.PerSecond, Environment.ProcessorCount);
}
