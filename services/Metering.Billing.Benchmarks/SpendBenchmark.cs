using System.Diagnostics;
using System.Globalization;
using Marten;
using Metering.Benchmarks;
using Metering.Billing.Chargeback.Teams;
using Metering.Billing.Invoices;
using Metering.Billing.RateCards;
using Metering.Billing.Spend;
using Metering.Billing.TenantMonths;
using Metering.Contracts.Billing;
using Metering.Pricing;
using Npgsql;

namespace Metering.Billing.Benchmarks;

/// <summary>
/// <c>./metering bench spend</c>: on a schema of its own, a <see cref="SpendFleet"/>'s usage goes into the spend tables
/// through the projection's own aggregation and upserts (<see cref="SpendQuantities"/>, in batches as the daemon
/// writes them), then <see cref="SpendQuery.RunAsync"/> (the endpoint's code without HTTP) is timed for the queries the
/// console asks, beside the bare SQL of the team query (the database's share) and the tables' sizes.
/// </summary>
public static class SpendBenchmark
{
    private const int BatchSize = 10_000;
    private const int WarmUps = 10;
    private const int MinRuns = 5;
    /// <summary>
    /// Each query runs <see cref="SpendBenchmarkOptions.Runs"/> times or until this much time has gone (a slow query then has
    /// fewer runs, said in the report).
    /// </summary>
    private static readonly TimeSpan RunBudget = TimeSpan.FromSeconds(40);
    private static readonly TimeSpan WarmUpBudget = TimeSpan.FromSeconds(5);

    /// <summary>How often the load and a query's timing write a progress line to <c>progress</c>.</summary>
    public static readonly TimeSpan ProgressEvery = TimeSpan.FromSeconds(2);

    public static async Task<string> RunAsync(string postgres, SpendBenchmarkOptions options, CancellationToken ct, TextWriter? progress = null, BenchmarkSummary? summary = null)
    {
        summary ??= new BenchmarkSummary();
        var (tenants, events, runs, keepSchema) = options;
        await using var bench = await BenchmarkSchema.CreateAsync(postgres, "spend_bench", keep: keepSchema);
        var (schema, store, dataSource) = bench;
        var report = new List<string>
        {
            $"spend benchmark {DateTime.UtcNow:yyyy-MM-dd HH:mm:ss}Z on {Environment.ProcessorCount} cores, {tenants:N0} tenants, {events:N0} usage events over {SpendFleet.Days} UTC days (schema {schema})",
        };
        summary.Add("tenants", tenants, "tenants");
        summary.Add("events", events, "events");
        var fleet = new SpendFleet(tenants);
        await DefineAsync(store, fleet, ct);
        report.Add($"fleet: {fleet.Teams.Count} teams in 3 levels, {fleet.Tenants.Count(t => t.Team == TeamDirectory.Unallocated)} tenants unallocated, "
                   + $"rate card v2 from {SpendFleet.SecondVersionFrom:yyyy-MM-dd}; biggest tenant {fleet.Biggest.Tenant} ({fleet.Biggest.Team})");

        var expected = await LoadAsync(store, fleet, events, report, progress, ct);
        await using (var analyze = dataSource.CreateCommand($"vacuum analyze {schema}.{SpendTables.Daily}, {schema}.{SpendTables.TeamDaily}, {schema}.{SpendTables.TenantMonthly}"))
            await analyze.ExecuteNonQueryAsync(ct);
        report.Add("(the tables vacuumed and analyzed after the load, as autovacuum does after a bulk change)");
        foreach (var table in new[] { SpendTables.Daily, SpendTables.TeamDaily, SpendTables.TenantMonthly }) report.Add(await SizeAsync(dataSource, schema, table, ct));

        var query = new SpendQuery(store, new BillingDatabase(dataSource));
        await CheckAsync(query, dataSource, schema, expected, ct);
        report.Add("check: the quantities per meter in the three tables and in spend by meter equal the generated ones");

        var division = fleet.Teams.First(t => t.Parent is null).Team;
        var month = (From: SpendFleet.First, To: SpendFleet.Last);
        var byTeam = new SpendRequest(month.From, month.To, SpendGroups.Team, SpendGranularity.Day);
        report.Add("SpendQuery.RunAsync (rows summed in PostgreSQL, rate card loaded, priced), 30 days unless said:");
        report.Add(await TimeAsync(progress, summary, runs, "by team, day", () => query.RunAsync(byTeam, ct)));
        report.Add(await TimeAsync(progress, summary, runs, $"by team, day, team={division} (its subtree)", () => query.RunAsync(byTeam with { Team = division }, ct)));
        report.Add(await TimeAsync(progress, summary, runs, "by meter, day", () => query.RunAsync(byTeam with { GroupBy = SpendGroups.Meter }, ct)));
        report.Add(await TimeAsync(progress, summary, runs, "by model, day", () => query.RunAsync(byTeam with { GroupBy = SpendGroups.Model }, ct)));
        report.Add(await TimeAsync(progress, summary, runs, "by tenant, day (every tenant)", () => query.RunAsync(byTeam with { GroupBy = SpendGroups.Tenant }, ct)));
        report.Add(await TimeAsync(progress, summary, runs, $"by feature, day, tenant={fleet.Biggest.Tenant} (the biggest)",
            () => query.RunAsync(byTeam with { GroupBy = SpendGroups.Feature, Tenant = fleet.Biggest.Tenant }, ct)));
        report.Add(await TimeAsync(progress, summary, runs, "by team, month", () => query.RunAsync(byTeam with { Granularity = SpendGranularity.Month }, ct)));
        // The fleet's second version takes effect mid-month, so a month to date by tenant is read per tenant and day;
        // a month one version prices reads the tenant month rollup instead, timed here on the same data.
        var tenantMonths = byTeam with { GroupBy = SpendGroups.Tenant, Granularity = SpendGranularity.Month, To = SpendFleet.Last.AddDays(-1) };
        report.Add(await TimeAsync(progress, summary, runs, "by tenant, month to date, 29 days (every tenant; two versions in the month: daily rows)",
            () => query.RunAsync(tenantMonths, ct)));
        report.Add(await TimeAsync(progress, summary, runs, "by tenant, month (every tenant): the tenant month rollup read and priced, the path of a month one version prices",
            () => PriceTenantMonthsAsync(store, query, tenantMonths, ct)));
        report.AddRange(await InvoiceMonthAsync(store, query, dataSource, runs, progress, summary, ct));
        report.Add("raw ceiling, the same SELECT as by team, day, read to the end, no pricing:");
        report.Add(await TimeAsync(progress, summary, runs, "by team, day: SQL only", () => ReadToEndAsync(query, byTeam, ct)));
        var teamRows = new List<SpendRow>();
        await query.ReadRowsAsync(byTeam, null, teamRows.Add, ct);
        RateCardHistory? rateCards;
        await using (var session = store.QuerySession()) rateCards = await session.LoadAsync<RateCardHistory>(RateCardHistory.StreamKey, ct);
        report.Add(await TimeAsync(progress, summary, runs, "by team, day: pricing only (its rows in memory)", () => Task.FromResult(SpendPricing.Price(byTeam, teamRows, rateCards))));

        report.Add("plan of by team, day:");
        report.AddRange(await ExplainAsync(query, byTeam, ct));
        report.Add($"plan of by feature, day, tenant={fleet.Biggest.Tenant}:");
        report.AddRange(await ExplainAsync(query, byTeam with { GroupBy = SpendGroups.Feature, Tenant = fleet.Biggest.Tenant }, ct));
        if (keepSchema) report.Add($"schema {schema} kept (--keep): drop it with 'drop schema {schema} cascade'");
        return string.Join(Environment.NewLine, report);
    }

    private static async Task DefineAsync(DocumentStore store, SpendFleet fleet, CancellationToken ct)
    {
        await using (var session = store.LightweightSession())
        {
            session.Events.Append(RateCardHistory.StreamKey, fleet.RateCard().ToArray<object>());
            session.Events.Append(TeamDirectory.StreamKey, fleet.Teams.ToArray<object>());
            await session.SaveChangesAsync(ct);
        }
        foreach (var chunk in fleet.Assignments().Chunk(2_000))
        {
            await using var session = store.LightweightSession();
            session.Events.Append(TeamDirectory.StreamKey, chunk.ToArray<object>());
            await session.SaveChangesAsync(ct);
        }
    }

    /// <summary>The fleet's usage through the projection's aggregation and SQL, a batch per transaction; the generated quantity per meter.</summary>
    private static async Task<Dictionary<string, decimal>> LoadAsync(DocumentStore store, SpendFleet fleet, int events, List<string> report, TextWriter? progress, CancellationToken ct)
    {
        var expected = new Dictionary<string, decimal>(StringComparer.Ordinal);
        var writing = new Stopwatch();
        var total = Stopwatch.StartNew();
        var loaded = 0;
        var nextProgress = ProgressEvery;
        foreach (var batch in fleet.Usage(events).Chunk(BatchSize))
        {
            if (progress is not null && total.Elapsed >= nextProgress)
            {
                progress.WriteLine(Invariant($"loaded {loaded:N0} of {events:N0} events in {total.Elapsed.TotalSeconds:F0} s"));
                nextProgress = total.Elapsed + ProgressEvery;
            }
            loaded += batch.Length;
            foreach (var (_, usage) in batch) expected[usage.Meter] = expected.GetValueOrDefault(usage.Meter) + usage.Quantity;
            writing.Start();
            var quantities = new SpendQuantities();
            foreach (var (tenant, usage) in batch) quantities.Add(tenant.Tenant, tenant.Team, UsageTotal.Of([usage])[0], usage.Quantity);
            await using (var session = store.LightweightSession())
            {
                quantities.Queue(session, store.Options.DatabaseSchemaName);
                await session.SaveChangesAsync(ct);
            }
            writing.Stop();
        }
        report.Add(Invariant($"load: {events:N0} events in {writing.Elapsed.TotalSeconds:F1} s = {events / writing.Elapsed.TotalSeconds:F0} events/s (the projection's aggregation and upserts of both tables, batches of {BatchSize:N0}; {total.Elapsed.TotalSeconds:F1} s with generating them)"));
        return expected;
    }

    private static async Task<string> SizeAsync(NpgsqlDataSource dataSource, string schema, string table, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"""
            select count(*), pg_relation_size('{schema}.{table}'), pg_indexes_size('{schema}.{table}'), pg_total_relation_size('{schema}.{table}')
            from {schema}.{table}
            """);
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        static double Mb(long bytes) => bytes / 1024.0 / 1024.0;
        return Invariant($"{table}: {reader.GetInt64(0):N0} rows, {Mb(reader.GetInt64(3)):F1} MB (table {Mb(reader.GetInt64(1)):F1} MB, indexes {Mb(reader.GetInt64(2)):F1} MB)");
    }

    private static async Task CheckAsync(SpendQuery query, NpgsqlDataSource dataSource, string schema, Dictionary<string, decimal> expected, CancellationToken ct)
    {
        var byMeter = await query.RunAsync(new SpendRequest(SpendFleet.First, SpendFleet.Last, SpendGroups.Meter, SpendGranularity.Month), ct);
        var viewed = byMeter.Series.ToDictionary(s => s.Key!, s => s.Points.Sum(p => p.Quantity ?? 0), StringComparer.Ordinal);
        foreach (var table in new[] { SpendTables.Daily, SpendTables.TeamDaily, SpendTables.TenantMonthly })
        {
            await using var command = dataSource.CreateCommand($"select meter, sum(quantity) from {schema}.{table} group by meter");
            var stored = new Dictionary<string, decimal>(StringComparer.Ordinal);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) stored[reader.GetString(0)] = reader.GetDecimal(1);
            if (!SameQuantities(stored, expected)) throw new InvalidOperationException($"{table} holds other quantities per meter than were generated");
        }
        if (!SameQuantities(viewed, expected)) throw new InvalidOperationException("spend by meter shows other quantities than were generated");
    }

    private static bool SameQuantities(Dictionary<string, decimal> actual, Dictionary<string, decimal> expected) =>
        actual.Count == expected.Count && expected.All(e => actual.GetValueOrDefault(e.Key) == e.Value);

    private static async Task<SpendView> PriceTenantMonthsAsync(DocumentStore store, SpendQuery query, SpendRequest request, CancellationToken ct)
    {
        RateCardHistory? rateCards;
        await using (var session = store.QuerySession()) rateCards = await session.LoadAsync<RateCardHistory>(RateCardHistory.StreamKey, ct);
        var pricer = new SpendPricer(request, rateCards);
        await query.ReadRowsAsync(request, null, pricer.Add, ct, fromTenantMonths: true);
        return pricer.View();
    }

    /// <summary>
    /// A whole month by tenant, whose points are the invoice totals (<see cref="MonthInvoices"/>): the fleet's month has
    /// two rate-card versions, so its usage is copied to December, which version 2 prices throughout, as spend rows and
    /// as each tenant's <see cref="MonthlyUsage"/> (what recording writes), with every 100th tenant's invoice marked as
    /// holding adjustments. The exact path (every tenant's usage priced) and the rollup's are timed side by side, after
    /// checking they give the same totals, and then the endpoint's whole query.
    /// </summary>
    private static async Task<IEnumerable<string>> InvoiceMonthAsync(DocumentStore store, SpendQuery query, NpgsqlDataSource dataSource, int runs,
        TextWriter? progress, BenchmarkSummary summary, CancellationToken ct)
    {
        var (schema, events) = (store.Options.DatabaseSchemaName, store.Options.Events.DatabaseSchemaName);
        var (first, month) = (new DateOnly(2026, 12, 1), "2026-12");
        var shift = first.DayNumber - SpendFleet.First.DayNumber;
        await using (var copy = dataSource.CreateCommand($"""
            insert into {schema}.{SpendTables.Daily} select day + {shift}, tenant, team, meter, model, gpu_type, service, feature, quantity
                from {schema}.{SpendTables.Daily} where day between '{SpendFleet.First:yyyy-MM-dd}' and '{SpendFleet.Last:yyyy-MM-dd}';
            insert into {schema}.{SpendTables.TeamDaily} select day + {shift}, team, meter, model, gpu_type, quantity
                from {schema}.{SpendTables.TeamDaily} where day between '{SpendFleet.First:yyyy-MM-dd}' and '{SpendFleet.Last:yyyy-MM-dd}';
            insert into {schema}.{SpendTables.TenantMonthly} select '{first:yyyy-MM-dd}', tenant, team, meter, model, gpu_type, sum(quantity)
                from {schema}.{SpendTables.Daily} where day >= '{first:yyyy-MM-dd}' group by 2, 3, 4, 5, 6;
            insert into {schema}.{InvoiceMarks.Table} (month, tenant, finalized_total, adjusted)
                select '{month}', tenant, null, true from (select distinct tenant from {schema}.{SpendTables.TenantMonthly} where month = '{first:yyyy-MM-dd}') t
                order by tenant offset 0 rows fetch first (select count(distinct tenant) / 100 from {schema}.{SpendTables.TenantMonthly} where month = '{first:yyyy-MM-dd}') rows only;
            -- The spend rows were written without the daemon: its progress as it leaves it, at the end of the log.
            insert into {events}.mt_event_progression (name, last_seq_id) values ('{SpendProjection.Name}:All', (select coalesce(max(seq_id), 0) from {events}.mt_events))
                on conflict (name) do update set last_seq_id = excluded.last_seq_id;
            """))
            await copy.ExecuteNonQueryAsync(ct);

        var documents = 0;
        await using (var rows = dataSource.CreateCommand($"""
            select tenant, day, meter, model, gpu_type, sum(quantity) from {schema}.{SpendTables.Daily} where day >= '{first:yyyy-MM-dd}'
            group by 1, 2, 3, 4, 5 order by 1
            """))
        await using (var reader = await rows.ExecuteReaderAsync(ct))
        {
            var batch = new List<MonthlyUsage>();
            string? tenant = null;
            var days = new List<DailyUsage>();
            async Task FlushAsync(bool always)
            {
                if (tenant is not null)
                    batch.Add(new MonthlyUsage(BillingPeriod.UsageStream(tenant, month), tenant, month,
                        days.GroupBy(d => (d.Meter, d.Model, d.GpuType)).Select(g => new MonthlyUsageLine(g.Key.Meter, g.Key.Model, g.Key.GpuType, g.Sum(d => d.Quantity))).ToList())
                    { Days = days });
                if (batch.Count < 500 && !always) return;
                await using var session = store.LightweightSession();
                session.Store<MonthlyUsage>(batch);
                await session.SaveChangesAsync(ct);
                documents += batch.Count;
                batch = [];
            }
            while (await reader.ReadAsync(ct))
            {
                var row = reader.GetString(0);
                if (row != tenant)
                {
                    await FlushAsync(false);
                    (tenant, days) = (row, []);
                }
                days.Add(new DailyUsage(reader.GetString(2), SpendTables.Read(reader.GetString(3)), SpendTables.Read(reader.GetString(4)),
                    reader.GetFieldValue<DateOnly>(1), reader.GetDecimal(5)));
            }
            await FlushAsync(true);
        }

        var database = new BillingDatabase(dataSource);
        async Task<IReadOnlyList<InvoiceTotal>> ExactAsync()
        {
            await using var session = store.QuerySession();
            return await MonthInvoices.ExactTotalsAsync(session, month, await session.LoadAsync<RateCardHistory>(RateCardHistory.StreamKey, ct), ct);
        }
        async Task<IReadOnlyList<InvoiceTotal>> FastAsync()
        {
            await using var session = store.QuerySession();
            return await MonthInvoices.TotalsAsync(session, database, month, null, ct);
        }
        var (exact, fast) = (await ExactAsync(), await FastAsync());
        if (!exact.SequenceEqual(fast)) throw new InvalidOperationException($"The invoice totals of {month} from the rollup differ from every invoice priced");
        return
        [
            Invariant($"a whole month by tenant, whose points are the invoice totals: the fleet's usage copied to {month} (one version prices it), {documents:N0} invoices, {documents / 100:N0} marked as holding adjustments; both paths give the same {exact.Count:N0} totals ({Money.Format(exact.Sum(t => t.Total))} in all)"),
            await TimeAsync(progress, summary, runs, "invoice totals, exact: every tenant's usage loaded and priced", ExactAsync),
            await TimeAsync(progress, summary, runs, "invoice totals, fast: the rollup and the marks (1 % from usage)", FastAsync),
            await TimeAsync(progress, summary, runs, $"by tenant, month, {month} whole (every tenant; GET /v1/spend's path)",
                () => query.RunAsync(new SpendRequest(first, first.AddMonths(1).AddDays(-1), SpendGroups.Tenant, SpendGranularity.Month), ct)),
        ];
    }

    private static async Task<int> ReadToEndAsync(SpendQuery query, SpendRequest request, CancellationToken ct)
    {
        await using var command = query.RowsCommand(request, null);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var rows = 0;
        while (await reader.ReadAsync(ct))
        {
            _ = (reader.GetString(0), reader.GetFieldValue<DateOnly>(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetDecimal(5));
            rows++;
        }
        return rows;
    }

    private static async Task<IEnumerable<string>> ExplainAsync(SpendQuery query, SpendRequest request, CancellationToken ct)
    {
        await using var command = query.RowsCommand(request, null);
        command.CommandText = "explain (analyze, buffers) " + command.CommandText;
        var lines = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) lines.Add("  " + reader.GetString(0));
        return lines;
    }

    private static async Task<string> TimeAsync<T>(TextWriter? progress, BenchmarkSummary summary, int runs, string name, Func<Task<T>> run)
    {
        progress?.WriteLine($"timing {name}");
        var result = default(T);
        var warming = Stopwatch.StartNew();
        for (var i = 0; i < Math.Min(WarmUps, runs) && (i == 0 || warming.Elapsed < WarmUpBudget); i++) result = await run();
        var times = new List<double>();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var paused = GC.GetTotalPauseDuration();
        var budget = Stopwatch.StartNew();
        var nextProgress = ProgressEvery;
        while (times.Count < runs && (times.Count < MinRuns || budget.Elapsed < RunBudget))
        {
            if (progress is not null && budget.Elapsed >= nextProgress)
            {
                progress.WriteLine(Invariant($"timing {name}: {times.Count} of at most {runs} runs in {budget.Elapsed.TotalSeconds:F0} s"));
                nextProgress = budget.Elapsed + ProgressEvery;
            }
            var started = Stopwatch.GetTimestamp();
            result = await run();
            times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        var cpuPerRun = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds / times.Count;
        var pausePerRun = (GC.GetTotalPauseDuration() - paused).TotalMilliseconds / times.Count;
        times.Sort();
        double At(double percentile) => times[Math.Max(0, (int)Math.Ceiling(percentile * times.Count) - 1)];
        var size = result switch
        {
            SpendView view => $"{view.Series.Count:N0} series, {view.Series.Sum(s => s.Points.Count):N0} points",
            int rows => $"{rows:N0} rows",
            _ => "",
        };
        var figure = name.Replace(":", " -", StringComparison.Ordinal);
        summary.Add($"{figure} p50", At(0.50), "ms", "F2");
        summary.Add($"{figure} p99", At(0.99), "ms", "F2");
        return Invariant($"  {name,-58} p50 {At(0.50),8:F2} ms  p95 {At(0.95),8:F2} ms  p99 {At(0.99),8:F2} ms  max {times[^1],8:F2} ms  ({times.Count} runs; {size}; this process's CPU {cpuPerRun:F1} ms, GC pauses {pausePerRun:F1} ms a run; load {LoadAverage.Read(1)})");
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

/// <param name="Runs">How many times each query runs after its warm-up, at most (fewer when a query is slow).</param>
/// <param name="KeepSchema">Leave the benchmark's schema in the database, to try query plans on.</param>
public sealed record SpendBenchmarkOptions(int Tenants = 10_000, int Events = 10_000_000, int Runs = 500, bool KeepSchema = false);
