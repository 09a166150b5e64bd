using System.Text;
using Metering.Budgets.TenantBudgets;

namespace Metering.Budgets.Lists;

/// <summary>
/// <c>GET /v1/tenants</c> (admin): every tenant Budgets knows (a quota, stored usage or a broadcast status), in id order,
/// <c>?status=</c>, <c>?q=</c> (id prefix), <c>?limit=</c>, <c>?cursor=</c>. Read from the store alone: listing
/// activates no grain.
/// </summary>
public static class ListTenants
{
    private const string CursorTag = "t";

    /// <summary>What a page asks for: a status, an id prefix, the last id of the previous page and the page's size.</summary>
    public sealed record Query(string? Status, string? Prefix, string? After, int Limit);

    public static void MapListTenants(this IEndpointRouteBuilder app) =>
        app.MapGet("/v1/tenants", HandleAsync).RequireAuthorization(Policies.Admin)
            .WithName("ListTenants").WithSummary("Every tenant Budgets knows, with its status, in id order")
            .WithQueryParameter("status", "ok, warning or throttled: only tenants with that status")
            .WithQueryParameter(TenantPrefix.Parameter, "Only tenants whose id starts with this")
            .WithPaging("Tenants")
            .Produces<TenantListView>();

    private static async Task<IResult> HandleAsync(HttpRequest request, NpgsqlDataSource dataSource, CancellationToken ct)
    {
        var errors = new List<FieldError>();
        var status = ListPaging.Single(request.Query, "status", errors);
        if (status is not (null or BudgetStatuses.Ok or BudgetStatuses.Warning or BudgetStatuses.Throttled))
            errors.Add(new("status", $"must be one of {BudgetStatuses.Ok}, {BudgetStatuses.Warning}, {BudgetStatuses.Throttled}"));
        var prefix = TenantPrefix.Read(request.Query, errors);
        var (limit, after) = ListPaging.Page(request.Query, errors, After);
        if (errors.Count > 0) return BudgetProblems.Invalid(errors);
        return Results.Ok(await ReadAsync(dataSource, new Query(status, prefix, after, limit), ct));
    }

    /// <summary>The last tenant of the page a <c>next_cursor</c> of this list ends; null when it is not one.</summary>
    public static string? After(string cursor) =>
        ListPaging.KeyOf(cursor, CursorTag) is { } tenant && UsageEventRules.IsValidTenant(tenant) ? tenant : null;

    /// <summary>
    /// One page. Each table that makes a tenant known is read by an index range scan in byte order of the id (after the
    /// cursor, within the prefix, at most a page), the union of those ids is cut to a page and their details joined by
    /// key: a page costs the same over any number of tenants. A status other than <c>ok</c> is only in <c>statuses</c>,
    /// so that filter reads that table alone.
    /// </summary>
    public static async Task<TenantListView> ReadAsync(NpgsqlDataSource dataSource, Query query, CancellationToken ct)
    {
        const string schema = BudgetStore.Schema;
        var onlyStatuses = query.Status is BudgetStatuses.Warning or BudgetStatuses.Throttled;
        string Branch(string table)
        {
            var where = new StringBuilder("true");
            if (query.After is not null) where.Append(""" and x.tenant collate "C" > @after""");
            if (query.Prefix is not null) where.Append(" and ").Append(TenantPrefix.Condition("x.tenant"));
            if (table == "statuses" && query.Status is not null) where.Append(" and x.status = @status");
            else if (query.Status == BudgetStatuses.Ok)
                where.Append($" and not exists (select 1 from {schema}.statuses st where st.tenant = x.tenant and st.status <> @status)");
            return $"""(select x.tenant from {schema}.{table} x where {where} order by x.tenant collate "C" limit @take)""";
        }
        var branches = onlyStatuses ? [Branch("statuses")] : new[] { Branch("quotas"), Branch("tenant_progress"), Branch("statuses") };

        await using var command = dataSource.CreateCommand($"""
            with page as (
                select tenant from ({string.Join(" union ", branches)}) known
                order by tenant collate "C" limit @take)
            select p.tenant, coalesce(st.status, @ok), coalesce(jsonb_array_length(q.limits), 0), greatest(q.updated_at, st.changed_at, tp.updated_at)
            from page p
            left join {schema}.quotas q on q.tenant = p.tenant
            left join {schema}.statuses st on st.tenant = p.tenant
            left join {schema}.tenant_progress tp on tp.tenant = p.tenant
            order by p.tenant collate "C"
            """);
        // One more than a page: whether there is a next one.
        command.Parameters.AddWithValue("take", query.Limit + 1);
        command.Parameters.AddWithValue("ok", BudgetStatuses.Ok);
        if (query.Status is not null) command.Parameters.AddWithValue("status", query.Status);
        if (query.After is not null) command.Parameters.AddWithValue("after", query.After);
        if (query.Prefix is not null) TenantPrefix.AddParameters(command, query.Prefix);
        var tenants = new List<TenantSummary>();
        await using (var reader = await command.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct))
                tenants.Add(new(reader.GetString(0), reader.GetString(1), reader.GetInt32(2), reader.GetFieldValue<DateTimeOffset>(3)));
        if (tenants.Count <= query.Limit) return new TenantListView(tenants);
        tenants.RemoveAt(query.Limit);
        return new TenantListView(tenants, ListPaging.Encode(CursorTag, tenants[^1].Tenant));
    }
}
