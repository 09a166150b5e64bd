using System.CommandLine;
using System.CommandLine.Invocation;
using Marten;
using Metering.Benchmarks;
using Metering.Billing.Usage;
using Metering.Billing.Spend;
using Npgsql;

namespace Metering.Billing.Benchmarks;

/// <summary>
/// The tool's commands: <c>billing</c>, <c>spend</c>, <c>teams</c> (what <c>./metering bench billing|spend|teams</c> run) and
/// <c>backtest</c>. Each prints its report, the benchmarks a summary block after it, and writes them to <c>--results</c>
/// as NAME-&lt;UTC time&gt;.txt and .summary.txt (<see cref="BenchmarkResults"/>; the benchmarks' progress goes to stderr
/// meanwhile, every few seconds); all run on the
/// PostgreSQL of <c>--postgres</c> (default: $METERING_POSTGRES), the first two on a schema of their own that they drop.
/// </summary>
public sealed class BillingBenchmarkCommands : RootCommand
{
    public const string PostgresVariable = "METERING_POSTGRES";

    public BillingBenchmarkCommands() : base("Billing's benchmarks and reports, in-process against PostgreSQL (no service running).")
    {
        Subcommands.Add(new BillingCommand());
        Subcommands.Add(new SpendCommand());
        Subcommands.Add(new TeamsCommand());
        Subcommands.Add(new BacktestCommand());
    }

    /// <summary>Parses a command line; a parse error then prints the errors, not the whole help.</summary>
    public ParseResult ParseCommandLine(IReadOnlyList<string> args)
    {
        var result = Parse(args);
        if (result.Action is ParseErrorAction errors) errors.ShowHelp = false;
        return result;
    }

    /// <summary>
    /// What every command of the tool shares: <c>--postgres</c> (required, or $METERING_POSTGRES) and <c>--results</c>,
    /// and the report printed and written there.
    /// </summary>
    public abstract class ReportCommand : Command
    {
        private readonly Option<string> _postgres = new("--postgres") { Description = $"the Npgsql connection string (default: ${PostgresVariable})" };
        private readonly Option<string> _results = new("--results") { Description = "folder the report is written to", DefaultValueFactory = _ => Path.Combine(".metering", "bench") };

        protected ReportCommand(string name, string description) : base(name, description)
        {
            Options.Add(_postgres);
            Options.Add(_results);
            Validators.Add(command =>
            {
                var given = command.GetResult(_postgres)?.Tokens is [{ Value.Length: > 0 }];
                if (!given && string.IsNullOrEmpty(Environment.GetEnvironmentVariable(PostgresVariable)))
                    command.AddError($"No PostgreSQL: set {PostgresVariable} or pass --postgres.");
            });
        }

        /// <summary>The connection string; the validator made sure there is one.</summary>
        protected string PostgresOf(ParseResult result) =>
            result.GetValue(_postgres) is { Length: > 0 } given ? given : Environment.GetEnvironmentVariable(PostgresVariable)!;

        /// <summary>Prints the report and the summary block the run filled, and writes both to the results folder.</summary>
        protected async Task<int> ReportAsync(ParseResult result, string name, Func<BenchmarkSummary, Task<string>> run)
        {
            var summary = new BenchmarkSummary();
            var lines = new[] { await run(summary) }.Concat(BenchmarkResults.Block(summary));
            var report = string.Join(Environment.NewLine, lines) + Environment.NewLine;
            var output = result.InvocationConfiguration.Output;
            output.Write(report);
            await BenchmarkResults.WriteAsync(result.GetValue(_results)!, name, report, summary, output);
            return 0;
        }
    }

    /// <summary>A command that runs a benchmark of one count (<c>billing [EVENTS]</c>, <c>teams [TENANTS]</c>) and reports it under its name.</summary>
    public abstract class CountBenchmarkCommand : ReportCommand
    {
        protected delegate Task<string> Benchmark(string postgres, int count, CancellationToken ct, TextWriter progress, BenchmarkSummary summary);

        protected CountBenchmarkCommand(string name, string description, Argument<int> count, Benchmark benchmark) : base(name, description)
        {
            Arguments.Add(count);
            SetAction((result, ct) => ReportAsync(result, name,
                summary => benchmark(PostgresOf(result), result.GetValue(count), ct, result.InvocationConfiguration.Error, summary)));
        }
    }

    /// <summary><c>billing [EVENTS]</c>: see <see cref="BillingBenchmark"/>.</summary>
    public sealed class BillingCommand() : CountBenchmarkCommand("billing", "Billing's storage rate, invoice read time and rebuild rate on EVENTS usage events.",
        Count("EVENTS", 1_000_000, "usage events recorded in one tenant's month"), BillingBenchmark.RunAsync);

    /// <summary><c>spend [TENANTS] [EVENTS] [--keep]</c>: see <see cref="SpendBenchmark"/>.</summary>
    public sealed class SpendCommand : ReportCommand
    {
        private readonly Argument<int> _tenants = Count("TENANTS", 10_000, "tenants of the synthetic fleet");
        private readonly Argument<int> _events = Count("EVENTS", 10_000_000, "usage events over the 30 days");
        private readonly Option<bool> _keep = new("--keep") { Description = "leave the benchmark's schema in the database, to try query plans on" };

        public SpendCommand() : base("spend", "GET /v1/spend's query times over TENANTS tenants' EVENTS usage events.")
        {
            Arguments.Add(_tenants);
            Arguments.Add(_events);
            Options.Add(_keep);
            SetAction((result, ct) => ReportAsync(result, "spend",
                summary => SpendBenchmark.RunAsync(PostgresOf(result), BenchmarkOptions(result), ct, result.InvocationConfiguration.Error, summary)));
        }

        public SpendBenchmarkOptions BenchmarkOptions(ParseResult result) =>
            new(result.GetValue(_tenants), result.GetValue(_events), KeepSchema: result.GetValue(_keep));
    }

    /// <summary><c>teams [TENANTS]</c>: see <see cref="TeamMappingBenchmark"/>.</summary>
    public sealed class TeamsCommand() : CountBenchmarkCommand("teams", "The time of one PUT /v1/tenants/{tenant}/team mapping at 1,000 and TENANTS mapped tenants.",
        Count("TENANTS", 10_000, "mapped tenants at the last level (the first is 1,000)"), TeamMappingBenchmark.RunAsync);

    /// <summary><c>backtest</c>: see <see cref="SpendBacktest"/>, over the spend a store Billing has run on recorded.</summary>
    public sealed class BacktestCommand : ReportCommand
    {
        public BacktestCommand() : base("backtest", "The spend forecast's backtest over the spend a store Billing has run on recorded.") =>
            SetAction(RunAsync);

        private async Task<int> RunAsync(ParseResult result, CancellationToken ct)
        {
            var connection = PostgresOf(result);
            using var store = DocumentStore.For(opts => BillingStore.Configure(opts, connection));
            await using var dataSource = NpgsqlDataSource.Create(connection);
            string report;
            try
            {
                report = await SpendBacktest.RunAsync(store, new SpendQuery(store, new BillingDatabase(dataSource)), DateTimeOffset.UtcNow, ct);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
            {
                result.InvocationConfiguration.Error.WriteLine($"This database has no Billing schema with spend tables ({e.MessageText}): run `Metering.Billing migrate` and Billing first.");
                return 1;
            }
            return await ReportAsync(result, "forecast-store", _ => Task.FromResult(report));
        }
    }

    private static Argument<int> Count(string name, int fallback, string description) => new(name)
    {
        Description = description,
        Arity = ArgumentArity.ZeroOrOne,
        DefaultValueFactory = _ => fallback,
        CustomParser = result =>
        {
            if (result.Tokens is not [var token]) return fallback;
            if (int.TryParse(token.Value, out var value) && value >= 1) return value;
            result.AddError($"{name} must be a whole number of at least 1, not '{token.Value}'.");
            return fallback;
        },
    };
}
