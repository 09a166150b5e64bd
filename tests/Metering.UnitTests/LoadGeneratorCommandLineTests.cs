using System.CommandLine;
using Metering.LoadGenerator;
using Metering.LoadGenerator.Benchmarks;
using Metering.LoadGenerator.CommandLine;

namespace Metering.UnitTests;

/// <summary>
/// The load generator's command lines, parsed and invoked without a host: help on every command, an unknown option or a
/// bad value is an error naming the option with exit code 1 (and nothing runs: no service is reachable here, so a
/// command that ran would fail or hang instead), and the options give the values and defaults the scripts rely on.
/// </summary>
public sealed class LoadGeneratorCommandLineTests
{
    private static Task<CommandLineRun> InvokeAsync(params string[] args) => CommandLineRun.InvokeAsync(new LoadRunCommand().ParseCommandLine(args));

    [Theory]
    [InlineData(new[] { "--help" }, "--rate <rate>")]
    [InlineData(new[] { "-h" }, "--verify")]
    [InlineData(new[] { "bench", "--help" }, "ingest")]
    [InlineData(new[] { "bench", "ingest", "--help" }, "--rates <rates>")]
    [InlineData(new[] { "bench", "budgets", "--help" }, "--authorize-rate <authorize-rate>")]
    [InlineData(new[] { "bench", "ingest", "--help" }, "--batch <batch>")]
    [InlineData(new[] { "bench", "budgets", "--help" }, "--postgres-shared")]
    [InlineData(new[] { "bench", "forecast", "--help" }, "--months <months>")]
    public async Task Help_on_every_command_lists_its_options_and_runs_nothing(string[] args, string option) =>
        (await InvokeAsync(args)).AssertHelp(option);

    [Theory]
    [InlineData(new[] { "--rat", "5000" }, "'--rat'")]
    [InlineData(new[] { "bench", "ingest", "--rate", "5000" }, "'--rate'")]
    [InlineData(new[] { "bench", "ingets" }, "'ingets'")]
    public async Task An_unknown_option_or_command_is_an_error_naming_it(string[] args, string named)
    {
        var run = await InvokeAsync(args);

        run.AssertRefused($"Unrecognized command or argument {named}");
        Assert.DoesNotContain("sending", run.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "--rate", "fast" }, "--rate must be a number, not 'fast'.")]
    [InlineData(new[] { "--tenants", "0" }, "--tenants must be at least 1, not 0.")]
    [InlineData(new[] { "--max-events", "1.5" }, "--max-events must be a number, not '1.5'.")]
    [InlineData(new[] { "--ingest", "localhost" }, "--ingest must be an http or https URL, not 'localhost'.")]
    [InlineData(new[] { "--via", "carrier-pigeon" }, "'carrier-pigeon'")]
    [InlineData(new[] { "--rate", "2000", "--rate", "5000" }, "'--rate' expects a single argument")]
    [InlineData(new[] { "bench", "ingest", "--rates", "5000,lots" }, "--rates must be positive numbers separated by commas; 'lots' is not one.")]
    [InlineData(new[] { "bench", "ingest", "--duration", "-1" }, "--duration must be at least 1, not -1.")]
    [InlineData(new[] { "bench", "budgets", "--trials", "many" }, "--trials must be a number, not 'many'.")]
    [InlineData(new[] { "bench", "ingest", "--batch", "0" }, "--batch must be at least 1, not 0.")]
    [InlineData(new[] { "bench", "budgets", "--broker-pid", "-3" }, "--broker-pid must be at least 0, not -3.")]
    [InlineData(new[] { "bench", "forecast", "--months", "0" }, "--months must be at least 1, not 0.")]
    public async Task A_bad_value_is_an_error_naming_the_option_without_a_stack_trace(string[] args, string message)
    {
        var run = await InvokeAsync(args);

        run.AssertRefused(message);
        Assert.DoesNotContain("Exception", run.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public void The_load_runs_options_and_defaults_are_those_the_scripts_pass()
    {
        var command = new LoadRunCommand();

        var defaults = command.LoadOptions(command.Parse([]));
        Assert.Equal((1000d, TimeSpan.FromSeconds(10), 20, "tenant-", 42, 0L), (defaults.EventsPerSecond, defaults.Duration, defaults.Tenants, defaults.TenantPrefix, defaults.Seed, defaults.MaxEvents));

        var given = command.LoadOptions(command.Parse(["--rate", "5000", "--duration=60", "--tenants", "100", "--via", "kafka", "--tenant-prefix", "demo-1-", "--seed", "7", "--max-events", "900", "--verify", "--batch", "300"]));
        Assert.Equal((5000d, TimeSpan.FromSeconds(60), 100, "demo-1-", 7, 900L, 300), (given.EventsPerSecond, given.Duration, given.Tenants, given.TenantPrefix, given.Seed, given.MaxEvents, given.BatchSize));
    }

    [Fact]
    public void The_benchmarks_options_and_defaults_are_those_the_scripts_pass()
    {
        var ingest = new IngestBenchmarkCommand();
        var ingestDefaults = ingest.BenchmarkOptions(ingest.Parse([]));
        Assert.Equal([5000d, 10000, 20000, 30000, 40000, 50000, 60000], ingestDefaults.Rates);
        Assert.Equal((TimeSpan.FromSeconds(30), 100, 200_000, "http", new Uri("http://127.0.0.1:5081")),
            (ingestDefaults.StepDuration, ingestDefaults.Tenants, ingestDefaults.RawEvents, ingestDefaults.Via, ingestDefaults.Budgets));
        var ingestGiven = ingest.BenchmarkOptions(ingest.Parse(["--rates", "1000,2500.5", "--via", "kafka", "--postgres", "Host=db", "--bootstrap", "broker:9092"]));
        Assert.Equal([1000d, 2500.5], ingestGiven.Rates);
        Assert.Equal(("kafka", "Host=db", "broker:9092"), (ingestGiven.Via, ingestGiven.Postgres, ingestGiven.Bootstrap));
        Assert.Equal((200, TimeSpan.FromMilliseconds(100)), (ingestDefaults.BatchSize, ingestDefaults.Linger));
        var ingestBatches = ingest.BenchmarkOptions(ingest.Parse(["--batch", "500", "--linger-ms", "20", "--ingest-pid", "11", "--postgres", "Host=db"]));
        Assert.Equal((500, TimeSpan.FromMilliseconds(20), 11, "Host=db", false),
            (ingestBatches.BatchSize, ingestBatches.Linger, ingestBatches.Processes.Ingest, ingestBatches.Processes.Postgres, ingestBatches.Processes.PostgresShared));

        var budgets = new BudgetsBenchmarkCommand();
        var budgetsDefaults = budgets.BenchmarkOptions(budgets.Parse([]));
        Assert.Equal((2000d, 5000d, 10000d, TimeSpan.FromSeconds(20), 200, 200, 10_000, "kafka", 0),
            (budgetsDefaults.AuthorizeRate, budgetsDefaults.IngestRate, budgetsDefaults.ReactionIngestRate, budgetsDefaults.Duration, budgetsDefaults.ReactionTrials,
                budgetsDefaults.Clients, budgetsDefaults.ActiveTenants, budgetsDefaults.LoadVia, budgetsDefaults.BudgetsPid));
        Assert.Equal(4242, budgets.BenchmarkOptions(budgets.Parse(["--budgets-pid", "4242"])).BudgetsPid);
        // 0: authorize measured alone, what one answer costs Budgets without usage beside it.
        Assert.Equal(0d, budgets.BenchmarkOptions(budgets.Parse(["--ingest-rate", "0"])).IngestRate);
        Assert.Equal(LoadRun.DefaultBatchSize, budgetsDefaults.Batch);
        var processes = budgets.BenchmarkOptions(budgets.Parse(["--ingest-pid", "1", "--budgets-pid", "2", "--billing-pid", "3", "--broker-pid", "4", "--postgres", "Host=db", "--postgres-shared"])).Processes;
        Assert.Equal((1, 2, 3, 4, "Host=db", true), (processes.Ingest, processes.Budgets, processes.Billing, processes.Broker, processes.Postgres, processes.PostgresShared));

        var forecast = new ForecastBenchmarkCommand();
        var forecastDefaults = forecast.BenchmarkOptions(forecast.Parse([]));
        Assert.Equal((42, 50, 13), (forecastDefaults.Seed, forecastDefaults.TenantsPerProfile, forecastDefaults.Months));
    }

    [Fact]
    public async Task A_load_run_reports_its_progress_every_few_seconds()
    {
        var progress = new StringWriter();
        await using var sink = new CountingSink();

        var report = await LoadRun.RunAsync(new LoadOptions { EventsPerSecond = 200, Duration = TimeSpan.FromSeconds(5), Tenants = 3 }, sink, CancellationToken.None, progress);

        var lines = progress.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["2 s of 5 s", "4 s of 5 s"], lines.Select(l => l[..l.IndexOf(':', StringComparison.Ordinal)]));
        Assert.All(lines, l => Assert.Matches(@": [\d,]+ events generated, [\d,]+ confirmed$", l));
        Assert.True(report.Events > 0);
    }

    [Fact]
    public async Task A_verification_reports_its_progress_while_the_services_do_not_answer()
    {
        var progress = new StringWriter();
        var sent = new SentReport();
        sent.Confirmed([new UsageEvent("u1", "tenant-1", Meters.InputTokens, 10, DateTimeOffset.UtcNow, "m")]);
        var nowhere = new Uri($"http://127.0.0.1:{FreePorts.Next()}");
        using var verification = new Verification(nowhere, nowhere, "token");

        await Assert.ThrowsAsync<HttpRequestException>(() => verification.WaitForMatchAsync(sent, TimeSpan.FromSeconds(5), CancellationToken.None, progress));

        var lines = progress.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.InRange(lines.Length, 2, 3);
        Assert.All(lines, l => Assert.Matches(@"^verifying for \d+ s of at most 5 s: no answer yet \(HttpRequestException\)$", l));
    }

    private sealed class CountingSink : IUsageSink
    {
        public Task SendAsync(IReadOnlyList<UsageEvent> batch, CancellationToken ct) => Task.CompletedTask;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
