using System.Globalization;

namespace Metering.Benchmarks;

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
