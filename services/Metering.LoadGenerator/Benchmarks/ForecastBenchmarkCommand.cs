using System.CommandLine;
using Metering.LoadGenerator.CommandLine;

namespace Metering.LoadGenerator.Benchmarks;

/// <summary><c>bench forecast</c>: see <see cref="ForecastBenchmark"/>. Pure computation: no PostgreSQL, broker or service.</summary>
public sealed class ForecastBenchmarkCommand : BenchmarkCommand
{
    private readonly Option<int> _seed = new("--seed") { Description = "the synthetic fleets' random seed", DefaultValueFactory = _ => 42 };
    private readonly Option<int> _tenants = CommandOptions.Number("--tenants", 50, 1, "tenants per usage profile");
    private readonly Option<int> _months = CommandOptions.Number("--months", 13, 1, "months of synthetic usage per tenant");

    public ForecastBenchmarkCommand() : base("forecast", "The month-end forecast's backtest error and interval coverage on synthetic fleets.")
    {
        Measure([_seed, _tenants, _months],
            (result, output, summary, _) => Task.FromResult(ForecastBenchmark.Run(BenchmarkOptions(result), output, summary)));
    }

    public ForecastBenchmarkOptions BenchmarkOptions(ParseResult result) => new()
    {
        Seed = result.GetValue(_seed),
        TenantsPerProfile = result.GetValue(_tenants),
        Months = result.GetValue(_months),
    };
}
