using System.CommandLine;
using Metering.LoadGenerator.CommandLine;

namespace Metering.LoadGenerator.Benchmarks;

/// <summary><c>bench ingest</c>: see <see cref="IngestBenchmark"/>.</summary>
public sealed class IngestBenchmarkCommand : BenchmarkCommand
{
    private readonly Option<IReadOnlyList<double>> _rates = new("--rates")
    {
        Description = "the steps' rates in events per second, comma-separated",
        DefaultValueFactory = _ => [5000, 10000, 20000, 30000, 40000, 50000, 60000],
        CustomParser = ParseRates,
    };
    private readonly Option<double> _duration = CommandOptions.Number("--duration", 30d, 1d, "seconds per step");
    private readonly Option<int> _tenants = CommandOptions.Number("--tenants", 100, 1, "tenants in the fleet");
    private readonly Option<int> _rawEvents = CommandOptions.Number("--raw-events", 200_000, 1, "events of the raw Kafka and PostgreSQL ceiling");
    private readonly Option<string> _via = CommandOptions.Via();
    private readonly Option<Uri> _ingest = CommandOptions.Ingest();
    private readonly Option<Uri> _budgets = CommandOptions.Budgets();
    private readonly Option<string> _token = CommandOptions.EmitterToken();
    private readonly Option<string> _bootstrap = CommandOptions.Bootstrap();
    private readonly Option<string> _postgres = new("--postgres") { Description = "the Npgsql connection string of the raw ceiling's COPY and of the database whose backends' CPU is measured (default: $METERING_POSTGRES)" };
    private readonly Option<int> _batch = CommandOptions.Batch();
    private readonly Option<double> _linger = CommandOptions.LingerMs();
    private readonly SystemProcessOptions _processes = new();

    public IngestBenchmarkCommand() : base("ingest", "The whole system at increasing rates against the raw Kafka and PostgreSQL ceiling.")
    {
        Measure([_rates, _duration, _tenants, _batch, _linger, _rawEvents, _via, _ingest, _budgets, _token, _bootstrap, _postgres, .. _processes.All],
            (result, output, summary, ct) => IngestBenchmark.RunAsync(BenchmarkOptions(result), output, summary, ct, result.InvocationConfiguration.Error));
    }

    public IngestBenchmarkOptions BenchmarkOptions(ParseResult result)
    {
        var via = result.GetValue(_via)!;
        var ingest = result.GetValue(_ingest)!;
        var token = CommandOptions.EmitterTokenOf(result, _token);
        var bootstrap = CommandOptions.BootstrapOf(result, _bootstrap);
        var postgres = result.GetValue(_postgres) ?? Environment.GetEnvironmentVariable("METERING_POSTGRES") ?? "";
        return new IngestBenchmarkOptions
        {
            Rates = result.GetValue(_rates)!,
            StepDuration = TimeSpan.FromSeconds(result.GetValue(_duration)),
            Tenants = result.GetValue(_tenants),
            RawEvents = result.GetValue(_rawEvents),
            Sink = () => LoadRunCommand.NewSink(via, ingest, token, bootstrap),
            Via = via,
            Budgets = result.GetValue(_budgets)!,
            Token = token,
            Bootstrap = bootstrap,
            Postgres = postgres,
            BatchSize = result.GetValue(_batch),
            Linger = TimeSpan.FromMilliseconds(result.GetValue(_linger)),
            Processes = _processes.Of(result, postgres),
        };
    }

    private static IReadOnlyList<double> ParseRates(System.CommandLine.Parsing.ArgumentResult result)
    {
        var rates = new List<double>();
        foreach (var text in result.Tokens.SelectMany(t => t.Value.Split(',')))
        {
            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var rate) && rate > 0) rates.Add(rate);
            else result.AddError($"--rates must be positive numbers separated by commas; '{text}' is not one.");
        }
        return rates;
    }
}
