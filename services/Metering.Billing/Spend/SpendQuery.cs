using System.Text;
using Marten;
using Metering.Billing.Chargeback.Teams;
using Metering.Billing.Invoices;
using Metering.Billing.RateCards;
using Metering.Contracts.Billing;
using Npgsql;
using NpgsqlTypes;

namespace Metering.Billing.Spend;

/// <summary>
/// Answers a <see cref="SpendRequest"/> from the spend tables, without HTTP (the endpoint and the benchmark call this):
/// quantities summed in PostgreSQL per group value, day and priced item, priced in <see cref="SpendPricing"/>. Queries
/// without a tenant, service or feature read the small team rollup.
/// </summary>
public sealed class SpendQuery(IDocumentStore store, BillingDatabase database)
{
    private string Schema => store.Options.DatabaseSchemaName;

    public async Task<SpendView> RunAsync(SpendRequest request, CancellationToken ct)
    {
        // The group is a column name in the SQL: only the known ones.
        if (!SpendGroups.All.Contains(request.GroupBy) || !SpendGranularity.All.Contains(request.Granularity))
            throw new ArgumentException($"Unknown grouping {request.GroupBy} by {request.Granularity}", nameof(request));
        await using var session = store.QuerySession();
        var teams = request.Team is null ? null : TeamsBelow(await DirectoryAsync(session, ct), request.Team);
        var rateCards = await session.LoadAsync<RateCardHistory>(RateCardHistory.StreamKey, ct);
        var invoices = request.ShowsInvoiceTotals ? await InvoiceMonthsAsync(session, request, ct) : null;
        var pricer = new SpendPricer(request, rateCards, invoices);
        if (request is { GroupBy: SpendGroups.Tenant, Granularity: SpendGranularity.Month }) await ReadTenantMonthsAsync(request, teams, rateCards, invoices, pricer.Add, ct);
        else await ReadRowsAsync(request, teams, pricer.Add, ct);
        return pricer.View();
    }

    /// <summary>
    /// By tenant and month, each month of the range from the cheapest source that gives its exact numbers. A month shown
    /// by invoice totals needs only its unpriced quantity, which depends on the day and priced item alone: read from the
    /// team rollup summed over teams (some 1,000 rows a month, not over a million at 10,000 tenants). A month read from
    /// its first day to at least its last day with usage, all priced by one rate-card version, is read from the tenant
    /// month rollup (one row per tenant, team and item): with one price Σ quantity × price = price × Σ quantity, so its
    /// points are the daily rows' exactly. Any other month (the range starting after its first day, usage after the
    /// range's last day, a version taking effect inside it) is read per tenant and day.
    /// </summary>
    private async Task ReadTenantMonthsAsync(SpendRequest request, IReadOnlyList<string>? teams, RateCardHistory? rateCards,
        IReadOnlyDictionary<string, IReadOnlyList<InvoiceTotal>>? invoices, Action<SpendRow> row, CancellationToken ct)
    {
        for (var month = SpendTables.MonthOf(request.From); month <= request.To; month = month.AddMonths(1))
        {
            var (from, to) = (Max(month, request.From), Min(month.AddMonths(1).AddDays(-1), request.To));
            var span = request with { From = from, To = to };
            // Grouped by meter, the rows come from the team rollup; their key is never shown (the pricer keeps only the
            // unpriced quantity of an invoice month's rows).
            if (request.Tenant is null && invoices?.ContainsKey(SpendPricing.BucketOf(month, SpendGranularity.Month)) == true)
                await ReadRowsAsync(span with { GroupBy = SpendGroups.Meter }, teams, row, ct);
            else if (from == month && RateCardHistory.OneVersionPrices(rateCards, from, to) && !await AnyUsageAfterAsync(to, ct))
                await ReadRowsAsync(span, teams, row, ct, fromTenantMonths: true);
            else await ReadRowsAsync(span, teams, row, ct);
        }
    }

    private static DateOnly Max(DateOnly a, DateOnly b) => a > b ? a : b;

    private static DateOnly Min(DateOnly a, DateOnly b) => a < b ? a : b;

    /// <summary>Whether any usage is recorded after <paramref name="day"/> in its month (that month's rollup then holds more than the range).</summary>
    private async Task<bool> AnyUsageAfterAsync(DateOnly day, CancellationToken ct)
    {
        var monthEnd = SpendTables.MonthOf(day).AddMonths(1).AddDays(-1);
        if (day >= monthEnd) return false;
        await using var command = database.DataSource.CreateCommand($"""
            select exists (select 1 from {Schema}.{SpendTables.TeamDaily} where day > @day and day <= @end)
            """);
        command.Parameters.AddWithValue("day", day);
        command.Parameters.AddWithValue("end", monthEnd);
        return (bool)(await command.ExecuteScalarAsync(ct))!;
    }

    /// <summary>
    /// The request's rows (its group value, day and priced item, for the team's subtree when it names one) and the rate
    /// cards, unpriced: for callers that price them their own way with <see cref="SpendPricing.DailyCosts"/>.
    /// </summary>
    public async Task<(IReadOnlyList<SpendRow> Rows, RateCardHistory? RateCards)> ReadAsync(SpendRequest request, CancellationToken ct)
    {
        if (!SpendGroups.All.Contains(request.GroupBy))
            throw new ArgumentException($"Unknown grouping {request.GroupBy}", nameof(request));
        await using var session = store.QuerySession();
        var teams = request.Team is null ? null : TeamsBelow(await DirectoryAsync(session, ct), request.Team);
        var rows = new List<SpendRow>();
        await ReadRowsAsync(request, teams, rows.Add, ct);
        return (rows, await session.LoadAsync<RateCardHistory>(RateCardHistory.StreamKey, ct));
    }

    /// <summary>The first and last day with a row in the spend tables; null when nothing is recorded.</summary>
    public async Task<(DateOnly First, DateOnly Last)?> RecordedDaysAsync(CancellationToken ct)
    {
        await using var command = database.DataSource.CreateCommand($"select min(day), max(day) from {Schema}.{SpendTables.TeamDaily}");
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return reader.IsDBNull(0) ? null : (reader.GetFieldValue<DateOnly>(0), reader.GetFieldValue<DateOnly>(1));
    }

    /// <summary>The team and every team below it, by the hierarchy now (<see cref="TeamDirectory.Unallocated"/> is a team of its own).</summary>
    public static IReadOnlyList<string> TeamsBelow(TeamDirectory directory, string team) =>
        directory.Teams.Keys.Append(TeamDirectory.Unallocated).Append(team).Distinct(StringComparer.Ordinal)
            .Where(t => directory.Covers(team, t)).Order(StringComparer.Ordinal).ToList();

    /// <summary>Whether any of the tenant's usage in the range was charged to one of <paramref name="teams"/>.</summary>
    public async Task<bool> ChargedToAnyAsync(string tenant, IReadOnlyList<string> teams, DateOnly from, DateOnly to, CancellationToken ct)
    {
        await using var command = database.DataSource.CreateCommand($"""
            select exists (select 1 from {Schema}.{SpendTables.Daily} where day between @from and @to and tenant = @tenant and team = any(@teams))
            """);
        command.Parameters.AddWithValue("from", from);
        command.Parameters.AddWithValue("to", to);
        command.Parameters.AddWithValue("tenant", tenant);
        command.Parameters.AddWithValue("teams", teams.ToArray());
        return (bool)(await command.ExecuteScalarAsync(ct))!;
    }

    private static async Task<TeamDirectory> DirectoryAsync(IQuerySession session, CancellationToken ct) =>
        await TeamDirectory.LoadAsync(session, ct);

    /// <summary>Each row of the request to <paramref name="row"/> as it is read (none is kept: a month by team has some 30,000).</summary>
    /// <param name="fromTenantMonths">Read the tenant month rollup: one row per group value, month (dated its first day) and item.</param>
    internal async Task ReadRowsAsync(SpendRequest request, IReadOnlyList<string>? teams, Action<SpendRow> row, CancellationToken ct, bool fromTenantMonths = false)
    {
        await using var command = RowsCommand(request, teams, fromTenantMonths);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            row(new SpendRow(SpendTables.Read(reader.GetString(0)), reader.GetFieldValue<DateOnly>(1), reader.GetString(2),
                SpendTables.Read(reader.GetString(3)), SpendTables.Read(reader.GetString(4)), reader.GetDecimal(5)));
    }

    /// <summary>The SELECT that reads a request's rows (the spend benchmark times it bare, as the database's share).</summary>
    internal NpgsqlCommand RowsCommand(SpendRequest request, IReadOnlyList<string>? teams, bool fromTenantMonths = false)
    {
        var fine = request.Tenant is not null || request.GroupBy is SpendGroups.Tenant or SpendGroups.Service or SpendGroups.Feature;
        if (fromTenantMonths && request.GroupBy is SpendGroups.Service or SpendGroups.Feature)
            throw new ArgumentException($"The tenant month rollup has no {request.GroupBy}", nameof(request));
        // By team the rollup's key is the rows' key: each row is its own sum, so PostgreSQL has nothing to aggregate (on
        // a month of 50 teams that aggregation was most of the query's time, spilling to disk at the default work_mem).
        var rowPerKey = !fine && request.GroupBy == SpendGroups.Team;
        var (table, day) = fromTenantMonths ? (SpendTables.TenantMonthly, "month") : (fine ? SpendTables.Daily : SpendTables.TeamDaily, "day");
        var sql = new StringBuilder($"""
            select {request.GroupBy}, {day}, meter, model, gpu_type, {(rowPerKey ? "quantity" : "sum(quantity)")}
            from {Schema}.{table}
            where {day} between @from and @to
            """);
        var command = database.DataSource.CreateCommand();
        command.Parameters.AddWithValue("from", fromTenantMonths ? SpendTables.MonthOf(request.From) : request.From);
        command.Parameters.AddWithValue("to", request.To);
        void Filter(string column, string? value)
        {
            if (value is null) return;
            sql.Append($" and {column} = @{column}");
            command.Parameters.Add(new NpgsqlParameter(column, NpgsqlDbType.Text) { Value = value });
        }
        Filter("tenant", request.Tenant);
        Filter("meter", request.Meter);
        Filter("model", request.Model);
        Filter("gpu_type", request.GpuType);
        if (teams is not null)
        {
            sql.Append(" and team = any(@teams)");
            command.Parameters.Add(new NpgsqlParameter("teams", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = teams.ToArray() });
        }
        sql.Append(rowPerKey ? " and quantity <> 0" : " group by 1, 2, 3, 4, 5 having sum(quantity) <> 0");
        command.CommandText = sql.ToString();
        return command;
    }

    /// <summary>The invoice totals of each whole month of the range, narrowed to the tenant and the team's scope asked for.</summary>
    private async Task<Dictionary<string, IReadOnlyList<InvoiceTotal>>> InvoiceMonthsAsync(IQuerySession session, SpendRequest request, CancellationToken ct)
    {
        var months = new Dictionary<string, IReadOnlyList<InvoiceTotal>>(StringComparer.Ordinal);
        foreach (var month in request.WholeMonths())
        {
            var totals = (await MonthInvoices.TotalsAsync(session, database, month, request.Tenant, ct, request.RecordedThrough)).ToList();
            if (request.Team is { } team)
            {
                var readable = await TenantAccess.ReadableAsync(team, month, totals.Select(i => i.Tenant), session, ct);
                totals = totals.Where(i => readable.Contains(i.Tenant)).ToList();
            }
            months[month] = totals;
        }
        return months;
    }
}
