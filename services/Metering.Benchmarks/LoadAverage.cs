namespace Metering.Benchmarks;

/// <summary>The machine's load averages (Linux), printed beside a figure that the machine's load moves.</summary>
public static class LoadAverage
{
    /// <summary>The first <paramref name="count"/> of the 1-, 5- and 15-minute load averages, as <c>/proc/loadavg</c> gives them.</summary>
    public static string Read(int count = 3) =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(count)) : "unknown";
}
