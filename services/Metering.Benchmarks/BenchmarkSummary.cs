using System.Globalization;

namespace Metering.Benchmarks;

/// <summary>
/// A benchmark's key figures, one <c>name: value unit</c> per line, printed as the <c>summary</c> block at the end of
/// its report and written to <c>NAME-&lt;time&gt;.summary.txt</c> beside it (<see cref="BenchmarkResults"/>), so that
/// runs can be diffed.
/// </summary>
public sealed class BenchmarkSummary
{
    private readonly List<string> _lines = [];

    public IReadOnlyList<string> Lines => _lines;

    /// <summary>A figure; NaN or infinity is written as <c>n/a</c>.</summary>
    public void Add(string name, double value, string unit, string format = "F0") =>
        Add(name, double.IsFinite(value) ? value.ToString(format, CultureInfo.InvariantCulture) : "n/a", unit);

    public void Add(string name, string value, string unit = "")
    {
        if (name.Contains(':', StringComparison.Ordinal)) throw new ArgumentException($"a summary name holds no ':' ('{name}')", nameof(name));
        _lines.Add(unit == "" ? $"{name}: {value}" : $"{name}: {value} {unit}");
    }

    /// <summary>The CPU figures of a window: per group and in all, µs per event, and the machine's busy share.</summary>
    public void AddCpu(string prefix, CpuUse cpu)
    {
        if (cpu.Events == 0)
        {
            // Nothing to divide by: the CPU seconds themselves.
            foreach (var group in cpu.Groups) Add($"{prefix} cpu {group.Name}", (double)group.Ticks / cpu.TicksPerSecond, "s", "F2");
            Add($"{prefix} cpu total", (double)cpu.CountedTicks / cpu.TicksPerSecond, "s", "F2");
            Add($"{prefix} cpu machine busy share", cpu.MachineBusyShare * 100, "%");
            return;
        }
        foreach (var group in cpu.Groups) Add($"{prefix} cpu {group.Name}", cpu.MicrosecondsPerEvent(group.Ticks), "µs/event");
        Add($"{prefix} cpu total", cpu.MicrosecondsPerEvent(cpu.CountedTicks), "µs/event");
        Add($"{prefix} cpu machine busy", cpu.MicrosecondsPerEvent(cpu.MachineBusyTicks), "µs/event");
        Add($"{prefix} cpu machine busy share", cpu.MachineBusyShare * 100, "%");
    }
}
