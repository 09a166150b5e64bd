using System.Text.RegularExpressions;
using Metering.Billing.Benchmarks;

namespace Metering.IntegrationTests;

/// <summary>
/// <c>./metering bench spend</c> at a tiny size: its fleet goes through the spend projection's code into both tables with
/// the quantities it generated (the benchmark checks that and fails otherwise), a whole month's invoice totals from the
/// rollup equal every invoice priced (checked the same way), every query is timed (its progress written
/// apart from the report), and its schema is gone afterwards.
/// </summary>
public sealed class SpendBenchmarkTests
{
    [Fact]
    public async Task The_spend_benchmark_loads_checks_and_times_every_query_and_drops_its_schema()
    {
        var progress = new StringWriter();
        var report = await SpendBenchmark.RunAsync(TestInfrastructure.Postgres, new SpendBenchmarkOptions(Tenants: 40, Events: 4_000, Runs: 3), CancellationToken.None, progress);

        var lines = report.Split(Environment.NewLine);
        Assert.Contains(lines, l => l.StartsWith("load: 4,000 events in ", StringComparison.Ordinal));
        Assert.Contains("check: the quantities per meter in the three tables and in spend by meter equal the generated ones", lines);
        Assert.Contains(lines, l => l.StartsWith("spend_daily: ", StringComparison.Ordinal) && l.Contains(" rows, ", StringComparison.Ordinal));
        Assert.Equal(14, lines.Count(l => l.Contains(" p99 ", StringComparison.Ordinal) && l.Contains("(3 runs; ", StringComparison.Ordinal)));
        // A whole month by tenant: the invoice totals from the rollup equal every invoice priced (the benchmark fails otherwise), each path timed.
        Assert.Contains(lines, l => l.Contains(" invoices, ", StringComparison.Ordinal) && l.Contains("both paths give the same ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("invoice totals, exact: ", StringComparison.Ordinal) && l.Contains(" p50 ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("invoice totals, fast: ", StringComparison.Ordinal) && l.Contains(" p50 ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("by team, day: SQL only", StringComparison.Ordinal) && l.Contains(" rows; this process's CPU ", StringComparison.Ordinal) && l.Contains(" ms, GC pauses ", StringComparison.Ordinal));

        // Its progress goes to its own writer (stderr from the command), not into the report: each query as its timing starts.
        Assert.Equal(14, progress.ToString().Split(Environment.NewLine).Count(l => l.StartsWith("timing ", StringComparison.Ordinal) && !l.Contains(" of at most ", StringComparison.Ordinal)));
        Assert.DoesNotContain(lines, l => l.StartsWith("timing ", StringComparison.Ordinal));

        var schema = Regex.Match(lines[0], @"\(schema (spend_bench_[0-9a-f]{8})\)$").Groups[1].Value;
        Assert.NotEmpty(schema);
        await using var dataSource = NpgsqlDataSource.Create(TestInfrastructure.Postgres);
        await using var exists = dataSource.CreateCommand("select count(*) from pg_namespace where nspname = @schema");
        exists.Parameters.AddWithValue("schema", schema);
        Assert.Equal(0L, await exists.ExecuteScalarAsync());
    }
}
