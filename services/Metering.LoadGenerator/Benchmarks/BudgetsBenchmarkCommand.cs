using System.CommandLine;
using Metering.LoadGenerator.CommandLine;

namespace Metering.LoadGenerator.Benchmarks;

/// <summary><c>bench budgets</c>: see <see cref="BudgetsBenchmark"/>.</summary>
public sealed class BudgetsBenchmarkCommand : BenchmarkCommand
{
    private readonly Option<double> _authorizeRate = CommandOptions.Number("--authorize-rate", 2000d, 1d, "authorize requests per second, open loop");
    private readonly Option<double> _ingestRate = CommandOptions.Number("--ingest-rate", 5000d, 0d, "background usage events per second meanwhile (0: authorize alone)");
    private readonly Option<double> _reactionIngestRate = CommandOptions.Number("--reaction-ingest-rate", 10000d, 1d, "background usage events per second during the throttle-reaction trials");
    private readonly Option<double> _duration = CommandOptions.Number("--duration", 20d, 1d, "seconds of authorize latency measured");
    private readonly Option<int> _trials = CommandOptions.Number("--trials", 200, 1, "throttle-reaction trials");
    private readonly Option<int> _clients = CommandOptions.Number("--clients", 200, 1, "concurrent reserving clients of the overshoot test");
    private readonly Option<int> _activeTenants = CommandOptions.Number("--active-tenants", 10_000, 1, "tenants activated to measure memory per tenant");
    private readonly Option<string> _loadVia = CommandOptions.Via("--load-via", "kafka");
    private readonly Option<int> _batch = CommandOptions.Batch();
    private readonly Option<string> _postgres = new("--postgres") { Description = "the Npgsql connection string of the database whose backends' CPU is measured (default: $METERING_POSTGRES)" };
    private readonly SystemProcessOptions _processes = new();
    private readonly Option<Uri> _ingest = CommandOptions.Ingest();
    private readonly Option<Uri> _budgets = CommandOptions.Budgets();
    private readonly Option<string> _adminToken = CommandOptions.AdminToken();
    private readonly Option<string> _token = CommandOptions.EmitterToken();
    private readonly Option<string> _bootstrap = CommandOptions.Bootstrap();

    public BudgetsBenchmarkCommand() : base("budgets", "Authorize latency, throttle reaction, overshoot of concurrent reservations, memory per tenant.")
    {
        Measure([_authorizeRate, _ingestRate, _reactionIngestRate, _duration, _trials, _clients, _activeTenants, _loadVia, _batch, _ingest, _budgets, _adminToken, _token, _bootstrap, _postgres, .. _processes.All],
            (result, output, summary, ct) => BudgetsBenchmark.RunAsync(BenchmarkOptions(result), output, summary, ct));
    }

    public BudgetsBenchmarkOptions BenchmarkOptions(ParseResult result) => new()
    {
        Ingest = result.GetValue(_ingest)!,
        Budgets = result.GetValue(_budgets)!,
        AdminToken = CommandOptions.AdminTokenOf(result, _adminToken),
        EmitterToken = CommandOptions.EmitterTokenOf(result, _token),
        Bootstrap = CommandOptions.BootstrapOf(result, _bootstrap),
        Processes = _processes.Of(result, result.GetValue(_postgres) ?? Environment.GetEnvironmentVariable("METERING_POSTGRES") ?? ""),
        Batch = result.GetValue(_batch),
        AuthorizeRate = result.GetValue(_authorizeRate),
        IngestRate = result.GetValue(_ingestRate),
        ReactionIngestRate = result.GetValue(_reactionIngestRate),
        Duration = TimeSpan.FromSeconds(result.GetValue(_duration)),
        ReactionTrials = result.GetValue(_trials),
        Clients = result.GetValue(_clients),
        ActiveTenants = result.GetValue(_activeTenants),
        LoadVia = result.GetValue(_loadVia)!,
    };
}
