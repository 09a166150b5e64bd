using System.CommandLine;
using Metering.LoadGenerator.CommandLine;

namespace Metering.LoadGenerator.Benchmarks;

/// <summary><c>bench NAME</c>: one subcommand per benchmark; each prints its report and writes it to <c>--results</c>.</summary>
public sealed class BenchCommand : Command
{
    public BenchCommand() : base("bench", "Benchmarks of the running system (./metering bench NAME starts it for them), or of the forecast alone.")
    {
        Subcommands.Add(new IngestBenchmarkCommand());
        Subcommands.Add(new BudgetsBenchmarkCommand());
        Subcommands.Add(new ForecastBenchmarkCommand());
        Subcommands.Add(new ConsoleBenchmarkCommand());
    }

    /// <summary>
    /// Runs a benchmark that writes to the console, then prints its summary block, and writes what it printed and the
    /// summary alone to FOLDER (<see cref="BenchmarkResults"/>).
    /// </summary>
    public static async Task<int> RunWithResultsAsync(ParseResult result, string name, string folder, Func<TextWriter, BenchmarkSummary, Task<int>> benchmark)
    {
        var tee = new IngestBenchmark.Tee(result.InvocationConfiguration.Output);
        var summary = new BenchmarkSummary();
        var exit = await benchmark(tee, summary);
        foreach (var line in BenchmarkResults.Block(summary)) tee.WriteLine(line);
        await BenchmarkResults.WriteAsync(folder, name, tee.Copy.ToString(), summary, result.InvocationConfiguration.Output);
        return exit;
    }
}

/// <summary>One benchmark's command: its options and <c>--results</c>; its report is printed and written there.</summary>
public abstract class BenchmarkCommand(string name, string description) : Command(name, description)
{
    private readonly Option<string> _results = CommandOptions.Results();

    /// <summary>Adds the benchmark's options, then <c>--results</c>, and runs <paramref name="run"/> for the command.</summary>
    protected void Measure(IEnumerable<Option> options, Func<ParseResult, TextWriter, CancellationToken, Task<int>> run) =>
        Measure(options, (result, output, _, ct) => run(result, output, ct));

    /// <summary>As above, for a benchmark that also gives its key figures to the summary block.</summary>
    protected void Measure(IEnumerable<Option> options, Func<ParseResult, TextWriter, BenchmarkSummary, CancellationToken, Task<int>> run)
    {
        foreach (var option in options) Options.Add(option);
        Options.Add(_results);
        SetAction((result, ct) => BenchCommand.RunWithResultsAsync(result, Name, result.GetValue(_results)!, (output, summary) => run(result, output, summary, ct)));
    }
}
