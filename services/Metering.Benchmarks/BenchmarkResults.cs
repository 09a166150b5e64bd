namespace Metering.Benchmarks;

/// <summary>
/// Where every benchmark's report goes: printed, the <see cref="BenchmarkSummary"/> block after it, and written to
/// FOLDER/NAME-&lt;UTC time&gt;.txt with the summary alone in FOLDER/NAME-&lt;UTC time&gt;.summary.txt.
/// </summary>
public static class BenchmarkResults
{
    /// <summary>The summary block as the report ends with it: <c>summary</c>, then its lines; nothing when it is empty.</summary>
    public static IEnumerable<string> Block(BenchmarkSummary summary) => summary.Lines.Count == 0 ? [] : summary.Lines.Prepend("summary");

    /// <summary>Writes <paramref name="report"/> (already printed, summary block included) and the summary; says where on <paramref name="output"/>.</summary>
    public static async Task WriteAsync(string folder, string name, string report, BenchmarkSummary summary, TextWriter output)
    {
        Directory.CreateDirectory(folder);
        var stem = Path.Combine(folder, $"{name}-{DateTime.UtcNow:yyyyMMdd-HHmmss}");
        await File.WriteAllTextAsync(stem + ".txt", report);
        output.WriteLine($"results written to {stem}.txt");
        if (summary.Lines.Count == 0) return;
        await File.WriteAllLinesAsync(stem + ".summary.txt", summary.Lines);
        output.WriteLine($"summary written to {stem}.summary.txt");
    }
}
