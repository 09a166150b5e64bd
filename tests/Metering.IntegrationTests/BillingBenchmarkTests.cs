using System.Text.RegularExpressions;
using Metering.Benchmarks;
using Metering.Billing.Benchmarks;

namespace Metering.IntegrationTests;

/// <summary>
/// <c>./metering bench billing</c> at a small size: the report gives the record rate, the invoice read times and the
/// rebuild rate, recording's and the rebuild's CPU and WAL per event, and its summary block the same figures; its progress (the recording every 2 s, the rebuild's log) goes to its own writer, not into the report;
/// and its schema is gone afterwards.
/// </summary>
public sealed class BillingBenchmarkTests
{
    [Fact]
    public async Task The_billing_benchmark_reports_its_rates_writes_its_progress_apart_and_drops_its_schema()
    {
        var progress = new StringWriter();
        var before = await BenchmarkSchemasAsync();

        var summary = new BenchmarkSummary();
        var report = await BillingBenchmark.RunAsync(TestInfrastructure.Postgres, 20_000, CancellationToken.None, progress, summary);

        var lines = report.Split(Environment.NewLine);
        Assert.Matches(@"^billing benchmark .+ on \d+ cores, 20,000 usage events$", lines[0]);
        Assert.Matches(@"^record: 20,000 events in [\d.]+ s = \d+ events/s ", lines[1]);
        Assert.Matches(Cost("record", " after the first batch"), lines[2]);
        Assert.Matches(@"^invoice read .+ with 20,000 events in the month: p50 [\d.]+ ms, p99 [\d.]+ ms$", lines[3]);
        Assert.Matches(@"^rebuild of every projection: [\d.]+ s = \d+ usage events/s$", lines[4]);
        Assert.Matches(Cost("rebuild"), lines[5]);
        Assert.Equal(6, lines.Length);
        Assert.Equal(["events", "record", "record cpu total", "record cpu billing", "record cpu postgres", "record wal", "invoice read p50", "invoice read p99",
            "rebuild", "rebuild cpu total", "rebuild cpu billing", "rebuild cpu postgres", "rebuild wal"], summary.Lines.Select(l => l[..l.IndexOf(':')]));
        Assert.Equal("events: 20000 events", summary.Lines[0]);
        var logged = progress.ToString();
        foreach (var projection in new[] { "MonthlyUsageProjection", "RateCardHistoryProjection", "TeamTreeProjection", "TenantTeamHistoryProjection", "chargeback-ledger", "spend" })
            Assert.Matches($@"(?m)^Rebuilt {Regex.Escape(projection)} in [\d.]+ s$", logged);
        Assert.All(logged.Split(Environment.NewLine).Where(l => l.StartsWith("recorded ", StringComparison.Ordinal)),
            l => Assert.Matches(@"^recorded [\d,]+ of 20,000 events in \d+ s$", l));
        Assert.Equal(before, await BenchmarkSchemasAsync());
    }

    /// <summary>A phase's CPU per event (this process and the PostgreSQL backends it used) and WAL per event.</summary>
    private static string Cost(string phase, string tail = "") =>
        $@"^{phase}: [\d.]+ µs of CPU per event \(Billing's code [\d.]+, PostgreSQL backends [\d.]+\), -?\d+ bytes of WAL per event{tail}$";

    private static async Task<List<string>> BenchmarkSchemasAsync()
    {
        await using var dataSource = NpgsqlDataSource.Create(TestInfrastructure.Postgres);
        await using var command = dataSource.CreateCommand("select nspname from pg_namespace where nspname like 'billing_bench_%' order by nspname");
        await using var reader = await command.ExecuteReaderAsync();
        var schemas = new List<string>();
        while (await reader.ReadAsync()) schemas.Add(reader.GetString(0));
        return schemas;
    }
}
