using System.Globalization;
using System.Text;
using Marten;
using Metering.Billing.Chargeback.Teams;
using Metering.Billing.Invoicing;
using Metering.Billing.Pricing;
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
        if (invoices is { Count: > 0 } && request.Tenant is null) await ReadAroundInvoiceMonthsAsync(request, teams, invoices.Keys, pricer.Add, ct);
        else await ReadRowsAsync(request, teams, pricer.Add, ct);
        return pricer.View();
    }

    /// <summary>
    /// By tenant over whole months, the months' points are their invoice totals: of their days only the unpriced quantity
    /// is needed, which depends on the day and priced item alone, so those days are read from the team rollup summed over
    /// teams (some 1,000 rows a month) rather than per tenant (over a million at 10,000 tenants). The days of the range
    /// outside those months are read per tenant as usual.
    /// </summary>
    private async Task ReadAroundInvoiceMonthsAsync(SpendRequest request, IReadOnlyList<string>? teams, IEnumerable<string> wholeMonths, Action<SpendRow> row,
        CancellationToken ct)
    {
        var months = wholeMonths.Order(StringComparer.Ordinal).ToList();
        var first = DateOnly.ParseExact(months[0] + "-01", "yyyy-MM-dd", CultureInfo.InvariantCulture);
        var last = DateOnly.ParseExact(months[^1] + "-01", "yyyy-MM-dd", CultureInfo.InvariantCulture).AddMonths(1).AddDays(-1);
        if (request.From < first) await ReadRowsAsync(request with { To = first.AddDays(-1) }, teams, row, ct);
        // Grouped by meter, the rows come from the rollup per day and item; their key is never shown (the pricer keeps
        // only the unpriced quantity of an invoice month's rows).
        await ReadRowsAsync(request with { From = first, To = last, GroupBy = SpendGroups.Meter }, teams, row, ct);
        if (last < request.To) await ReadRowsAsync(request with { From = last.AddDays(1) }, teams, row, ct);
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
        await session.LoadAsync<TeamDirectory>(TeamDirectory.StreamKey, ct) ?? TeamDirectory.Empty;

    /// <summary>Each row of the request to <paramref name="row"/> as it is read (none is kept: a month by team has some 30,000).</summary>
    internal async Task ReadRowsAsync(SpendRequest request, IReadOnlyList<string>? teams, Action<SpendRow> row, CancellationToken ct)
    {
        await using var command = RowsCommand(request, teams);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            row(new SpendRow(SpendTables.Read(reader.GetString(0)), reader.GetFieldValue<DateOnly>(1), reader.GetString(2),
                SpendTables.Read(reader.GetString(3)), SpendTables.Read(reader.GetString(4)), reader.GetDecimal(5)));
    }

    /// <summary>The SELECT that reads a request's rows (the spend benchmark times it bare, as the database's share).</summary>
    internal NpgsqlCommand RowsCommand(SpendRequest request, IReadOnlyList<string>? teams)
    {
        var fine = request.Tenant is not null || request.GroupBy is SpendGroups.Tenant or SpendGroups.Service or SpendGroups.Feature;
        // By team the rollup's key is the rows' key: each row is its own sum, so PostgreSQL has nothing to aggregate (on
        // a month of 50 teams that aggregation was most of the query's time, spilling to disk at the default work_mem).
        var rowPerKey = !fine && request.GroupBy == SpendGroups.Team;
        var sql = new StringBuilder($"""
            select {request.GroupBy}, day, meter, model, gpu_type, {(rowPerKey ? "quantity" : "sum(quantity)")}
            from {Schema}.{(fine ? SpendTables.Daily : SpendTables.TeamDaily)}
            where day between @from and @to
            """);
        var command = database.DataSource.CreateCommand();
        command.Parameters.AddWithValue("from", request.From);
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
    private static async Task<Dictionary<string, IReadOnlyList<InvoiceTotal>>> InvoiceMonthsAsync(IQuerySession session, SpendRequest request, CancellationToken ct)
    {
        var months = new Dictionary<string, IReadOnlyList<InvoiceTotal>>(StringComparer.Ordinal);
        foreach (var month in request.WholeMonths())
        {
            var totals = (await MonthInvoices.TotalsAsync(session, month, ct)).Where(i => request.Tenant is null || i.Tenant == request.Tenant).ToList();
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
