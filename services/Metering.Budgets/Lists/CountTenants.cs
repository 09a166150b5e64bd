using Metering.Budgets.TenantBudgets;

namespace Metering.Budgets.Lists;

/// <summary>
/// <c>GET /v1/tenants/counts</c> (admin): how many tenants <c>GET /v1/tenants</c> lists, in all and per status, with
/// the same <c>?q=</c> (id prefix). One statement, so an overview needs no paging through every tenant to count them.
/// </summary>
public static class CountTenants
{
    public static void MapCountTenants(this IEndpointRouteBuilder app) =>
        app.MapGet("/v1/tenants/counts", HandleAsync).RequireAuthorization(Policies.Admin)
            .WithName("CountTenants").WithSummary("How many tenants the tenant list holds, in all and per status")
            .WithQueryParameter(TenantPrefix.Parameter, "Only tenants whose id starts with this")
            .Produces<TenantCountsView>()
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden);

    private static async Task<IResult> HandleAsync(HttpRequest request, NpgsqlDataSource dataSource, CancellationToken ct)
    {
        var errors = new List<FieldError>();
        var prefix = TenantPrefix.Read(request.Query, errors);
        if (errors.Count > 0) return BudgetProblems.Invalid(errors);
        return Results.Ok(await ReadAsync(dataSource, prefix, ct));
    }

    /// <summary>
    /// The tenants known to any of the three tables (as the list reads them), each with its status: <c>ok</c> is every
    /// tenant without another status, as <c>?status=ok</c> lists them.
    /// </summary>
    public static async Task<TenantCountsView> ReadAsync(NpgsqlDataSource dataSource, string? prefix, CancellationToken ct)
    {
        const string schema = BudgetStore.Schema;
        var where = prefix is null ? "" : " where " + TenantPrefix.Condition("x.tenant");
        await using var command = dataSource.CreateCommand($"""
            with known as (
                select x.tenant from {schema}.quotas x{where}
                union select x.tenant from {schema}.tenant_progress x{where}
                union select x.tenant from {schema}.statuses x{where})
            select count(*)::int,
                   (count(*) filter (where st.status is null or st.status = @ok))::int,
                   (count(*) filter (where st.status = @warning))::int,
                   (count(*) filter (where st.status = @throttled))::int
            from known k left join {schema}.statuses st on st.tenant = k.tenant
            """);
        command.Parameters.AddWithValue("ok", BudgetStatuses.Ok);
        command.Parameters.AddWithValue("warning", BudgetStatuses.Warning);
        command.Parameters.AddWithValue("throttled", BudgetStatuses.Throttled);
        if (prefix is not null) TenantPrefix.AddParameters(command, prefix);
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return new TenantCountsView(reader.GetInt32(0), reader.GetInt32(1), reader.GetInt32(2), reader.GetInt32(3));
    }
}
