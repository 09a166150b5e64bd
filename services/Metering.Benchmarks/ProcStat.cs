using System.Globalization;
using System.Runtime.InteropServices;

namespace Metering.Benchmarks;

/// <summary>
/// One line of <c>/proc/&lt;pid&gt;/stat</c>: the process's name (which may hold spaces and parentheses, so it runs to
/// the last ')'), its parent, the CPU it used in user and kernel mode and when it started, in clock ticks
/// (<see cref="ClockTicks.PerSecond"/>).
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

/// <summary>The unit of <c>/proc</c>'s CPU times: USER_HZ, as the system says it (<c>sysconf(_SC_CLK_TCK)</c>), not assumed.</summary>
public static class ClockTicks
{
    private const int ClockTicksName = 2; // _SC_CLK_TCK

    /// <summary>Clock ticks per second of this system; 100 where there is no <c>/proc</c> to read anyway.</summary>
    public static long PerSecond { get; } = OperatingSystem.IsLinux() ? SysConf(ClockTicksName) : 100;

    [DllImport("libc", EntryPoint = "sysconf")]
    private static extern long SysConf(int name);
}
