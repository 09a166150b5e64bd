using System.Globalization;
using System.Text;
using Metering.Budgets.TenantBudgets;

namespace Metering.Budgets.Lists;

/// <summary>
/// <c>GET /v1/alerts</c> (admin): the alerts sent (<see cref="AlertKinds"/>), newest first, <c>?tenant=</c>,
/// <c>?since=</c> (RFC 3339, inclusive), <c>?limit=</c>, <c>?cursor=</c>; from the table every alert is stored in as it is
/// recorded as sent, so the list survives restarts.
/// </summary>
public static class ListAlerts
{
    private const string CursorTag = "a";

    /// <summary>What a page asks for; <see cref="Before"/> is the (at, id) of the previous page's last alert.</summary>
    public sealed record Query(string? Tenant, DateTimeOffset? Since, (DateTimeOffset At, long Id)? Before, int Limit);

    public static void MapListAlerts(this IEndpointRouteBuilder app) =>
        app.MapGet("/v1/alerts", HandleAsync).RequireAuthorization(Policies.Admin)
            .WithName("ListAlerts").WithSummary("The budget alerts sent, newest first")
            .WithQueryParameter("tenant", "Only this tenant's alerts")
            .WithQueryParameter("since", "Only alerts sent at or after this moment (RFC 3339)")
            .WithPaging("Alerts")
            .Produces<AlertListView>();

    private static async Task<IResult> HandleAsync(HttpRequest request, NpgsqlDataSource dataSource, CancellationToken ct)
    {
        var errors = new List<FieldError>();
        var tenant = ListPaging.Single(request.Query, "tenant", errors);
        if (tenant is not null && !UsageEventRules.IsValidTenant(tenant)) errors.Add(new("tenant", UsageEventRules.TenantRule));
        DateTimeOffset? since = null;
        if (ListPaging.Single(request.Query, "since", errors) is { } sinceText)
        {
            if (UsageEventJson.TryParseTimestamp(sinceText, out var parsed)) since = parsed;
            else errors.Add(new("since", "must be an RFC 3339 date-time such as 2026-11-23T10:00:00Z"));
        }
        var (limit, before) = ListPaging.Page(request.Query, errors, Before);
        if (errors.Count > 0) return BudgetProblems.Invalid(errors);
        return Results.Ok(await ReadAsync(dataSource, new Query(tenant, since, before, limit), ct));
    }

    /// <summary>One page, newest first: an index scan on (at, id), or (tenant, at, id) for one tenant, from the cursor back.</summary>
    public static async Task<AlertListView> ReadAsync(NpgsqlDataSource dataSource, Query query, CancellationToken ct)
    {
        var where = new StringBuilder("true");
        if (query.Tenant is not null) where.Append(" and tenant = @tenant");
        if (query.Since is not null) where.Append(" and at >= @since");
        if (query.Before is not null) where.Append(" and (at, id) < (@before_at, @before_id)");
        await using var command = dataSource.CreateCommand($"""
            select id, tenant, kind, meter, period, limit_value, used, forecast, at from {BudgetStore.Schema}.alerts
            where {where}
            order by at desc, id desc
            limit @take
            """);
        command.Parameters.AddWithValue("take", query.Limit + 1);
        if (query.Tenant is not null) command.Parameters.AddWithValue("tenant", query.Tenant);
        if (query.Since is { } since) command.Parameters.AddWithValue("since", since.UtcDateTime);
        if (query.Before is { } before)
        {
            command.Parameters.AddWithValue("before_at", before.At.UtcDateTime);
            command.Parameters.AddWithValue("before_id", before.Id);
        }
        var alerts = new List<(long Id, AlertView Alert)>();
        await using (var reader = await command.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct))
                alerts.Add((reader.GetInt64(0), new AlertView(reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                    reader.GetDecimal(5), reader.GetDecimal(6), reader.IsDBNull(7) ? null : reader.GetDecimal(7), reader.GetFieldValue<DateTimeOffset>(8))));
        if (alerts.Count <= query.Limit) return new AlertListView(alerts.Select(a => a.Alert).ToList());
        var last = alerts[query.Limit - 1];
        return new AlertListView(alerts.Take(query.Limit).Select(a => a.Alert).ToList(), ListPaging.Encode(CursorTag, Key(last.Alert.At, last.Id)));
    }

    /// <summary>A cursor's key: the alert's time in microseconds since 1970 (PostgreSQL's precision, so exact) and its id.</summary>
    private static string Key(DateTimeOffset at, long id) =>
        string.Create(CultureInfo.InvariantCulture, $"{(at.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10}:{id}");

    /// <summary>The (at, id) of the last alert of the page a <c>next_cursor</c> of this list ends; null when it is not one.</summary>
    public static (DateTimeOffset At, long Id)? Before(string cursor)
    {
        var parts = ListPaging.KeyOf(cursor, CursorTag)?.Split(':');
        if (parts is [var atText, var idText] && parts.All(p => p.Length is > 0 and <= 19 && p.All(char.IsAsciiDigit)) &&
            long.TryParse(atText, NumberStyles.None, CultureInfo.InvariantCulture, out var micros) &&
            long.TryParse(idText, NumberStyles.None, CultureInfo.InvariantCulture, out var id) &&
            micros <= (DateTimeOffset.MaxValue.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10)
            return (DateTimeOffset.UnixEpoch.AddTicks(micros * 10), id);
        return null;
    }
}
