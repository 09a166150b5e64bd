using System.CommandLine;
using Metering.Billing;
using Metering.Billing.Benchmarks;

namespace Metering.UnitTests;

/// <summary>
/// Billing's commands beside the service (rebuild, migrate) and its benchmarks' tool, parsed and invoked without a host
/// or a database: help on every command, an unknown option or a bad number is an error naming it with exit code 1,
/// and nothing runs (no PostgreSQL is reachable at the connection string given, so a command that ran would fail otherwise).
/// </summary>
public sealed class BillingCommandLineTests
{
    private const string Unreachable = "Host=127.0.0.1;Port=1;Username=nobody;Password=nothing;Timeout=1";

    [Theory]
    [InlineData(new string[0], false)]
    [InlineData(new[] { "--urls", "http://127.0.0.1:5082" }, false)]
    [InlineData(new[] { "--environment=Production" }, false)]
    [InlineData(new[] { "migrate" }, true)]
    [InlineData(new[] { "rebuild" }, true)]
    [InlineData(new[] { "bench" }, true)]
    [InlineData(new[] { "--help" }, true)]
    [InlineData(new[] { "-h" }, true)]
    public void Billing_takes_a_command_line_starting_with_a_word_or_help_as_its_commands_and_anything_else_as_the_hosts(string[] args, bool command) =>
        Assert.Equal(command, BillingCommands.IsCommandLine(args));

    [Fact]
    public void Migrate_has_no_action_of_its_own_so_it_starts_the_host_briefly()
    {
        var parsed = BillingCommands.Parse(["migrate"]);

        Assert.Empty(parsed.Errors);
        Assert.Null(parsed.Action);
    }

    [Theory]
    [InlineData(new[] { "--help" }, "rebuild")]
    [InlineData(new[] { "rebuild", "--help" }, "Rebuild every Billing projection")]
    [InlineData(new[] { "migrate", "--help" }, "Create or update Billing's schema")]
    public async Task Help_on_Billings_commands_runs_nothing(string[] args, string text) =>
        (await CommandLineRun.InvokeAsync(BillingCommands.Parse(args))).AssertHelp(text);

    [Theory]
    [InlineData(new[] { "rebuild", "--all" }, "Unrecognized command or argument '--all'")]
    [InlineData(new[] { "migrate", "now" }, "Unrecognized command or argument 'now'")]
    [InlineData(new[] { "bench", "1000" }, "Unrecognized command or argument 'bench'")]
    public async Task An_unknown_command_or_option_of_Billing_is_an_error_naming_it(string[] args, string message) =>
        (await CommandLineRun.InvokeAsync(BillingCommands.Parse(args))).AssertRefused(message);

    [Theory]
    [InlineData(new[] { "--help" }, "spend")]
    [InlineData(new[] { "billing", "--help" }, "<EVENTS>")]
    [InlineData(new[] { "spend", "--help" }, "--keep")]
    [InlineData(new[] { "backtest", "--help" }, "--results <results>")]
    public async Task Help_on_every_benchmark_runs_nothing(string[] args, string text) =>
        (await CommandLineRun.InvokeAsync(new BillingBenchmarkCommands().ParseCommandLine(args))).AssertHelp(text);

    [Theory]
    [InlineData(new[] { "billing", "lots" }, "EVENTS must be a whole number of at least 1, not 'lots'.")]
    [InlineData(new[] { "billing", "0" }, "EVENTS must be a whole number of at least 1, not '0'.")]
    [InlineData(new[] { "spend", "100", "1e6" }, "EVENTS must be a whole number of at least 1, not '1e6'.")]
    [InlineData(new[] { "spend", "--kep" }, "TENANTS must be a whole number of at least 1, not '--kep'.")]
    [InlineData(new[] { "spend", "10", "100", "--kep" }, "Unrecognized command or argument '--kep'")]
    [InlineData(new[] { "billing", "1000", "2000" }, "Unrecognized command or argument '2000'")]
    [InlineData(new[] { "bench-spend" }, "Unrecognized command or argument 'bench-spend'")]
    public async Task A_bad_number_or_an_unknown_option_of_a_benchmark_is_an_error_naming_it(string[] args, string message)
    {
        var run = await CommandLineRun.InvokeAsync(new BillingBenchmarkCommands().ParseCommandLine([.. args, "--postgres", Unreachable]));

        run.AssertRefused(message);
        Assert.DoesNotContain("results written", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void The_spend_benchmarks_arguments_and_defaults_are_those_the_script_passes()
    {
        var spend = new BillingBenchmarkCommands.SpendCommand();

        Assert.Equal(new SpendBenchmarkOptions(10_000, 10_000_000), spend.BenchmarkOptions(spend.Parse(["--postgres", Unreachable])));
        Assert.Equal(new SpendBenchmarkOptions(40, 4_000, KeepSchema: true), spend.BenchmarkOptions(spend.Parse(["--results", "/tmp", "40", "4000", "--keep", "--postgres", Unreachable])));
    }
}
