using System.CommandLine;
using Metering.LoadGenerator.CommandLine;

namespace Metering.LoadGenerator.Benchmarks;

/// <summary><c>bench console</c>: see <see cref="ConsoleBenchmark"/>. Needs the stack and the console's host running (./metering bench console starts them).</summary>
public sealed class ConsoleBenchmarkCommand : BenchmarkCommand
{
    private readonly Option<int> _tenants = CommandOptions.Number("--tenants", 10_000, 1, "tenants seeded");
    private readonly Option<long> _events = CommandOptions.Number("--events", 1_000_000L, 1L, "usage events seeded over the days");
    private readonly Option<int> _days = CommandOptions.Number("--days", 30, 1, "days of usage, ending today");
    private readonly Option<int> _teams = CommandOptions.Number("--teams", 50, 1, "teams the tenants are mapped to");
    private readonly Option<int> _runs = CommandOptions.Number("--runs", 10, 1, "navigations measured per page");
    private readonly Option<bool> _measureOnly = new("--measure-only") { Description = "measure the pages of a stack seeded before, without seeding" };
    private readonly Option<Uri> _budgets = CommandOptions.Budgets();
    private readonly Option<Uri> _billing = CommandOptions.Billing();
    private readonly Option<Uri> _console = CommandOptions.Console();
    private readonly Option<string> _adminToken = CommandOptions.AdminToken();
    private readonly Option<string> _bootstrap = CommandOptions.Bootstrap();
    private readonly Option<string> _dist = new("--dist") { Description = "the console's build (index.html and assets)", DefaultValueFactory = _ => Path.Combine("console", "dist") };

    public ConsoleBenchmarkCommand() : base("console", "Time to interactive of the console's Overview and Tenants in headless Chromium, beside the same API calls without a browser.")
    {
        Measure([_tenants, _events, _days, _teams, _runs, _measureOnly, _budgets, _billing, _console, _adminToken, _bootstrap, _dist],
            (result, output, summary, ct) => ConsoleBenchmark.RunAsync(BenchmarkOptions(result), output, summary, ct));
    }

    public ConsoleBenchmarkOptions BenchmarkOptions(ParseResult result) => new()
    {
        Budgets = result.GetValue(_budgets)!,
        Billing = result.GetValue(_billing)!,
        Console = result.GetValue(_console)!,
        AdminToken = CommandOptions.AdminTokenOf(result, _adminToken),
        Bootstrap = CommandOptions.BootstrapOf(result, _bootstrap),
        Dist = result.GetValue(_dist)!,
        Tenants = result.GetValue(_tenants),
        Events = result.GetValue(_events),
        Days = result.GetValue(_days),
        Teams = result.GetValue(_teams),
        Runs = result.GetValue(_runs),
        MeasureOnly = result.GetValue(_measureOnly),
    };
}
