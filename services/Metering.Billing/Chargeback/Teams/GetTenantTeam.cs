namespace Metering.Billing.Chargeback.Teams;

/// <summary><c>GET /v1/tenants/{tenant}/team</c> (admin): a tenant's team and every earlier mapping; 404 when it is mapped to none.</summary>
public static class GetTenantTeam
{
    public static void MapGetTenantTeam(this IEndpointRouteBuilder app) =>
        app.MapGet("/v1/tenants/{tenant}/team", HandleAsync).RequireAuthorization(Policies.Admin)
            .WithName("GetTenantTeam").WithTags("Chargeback").WithSummary("A tenant's team and every earlier mapping")
            .Produces<TenantTeamView>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound).ProducesRetryLater();

    private static async Task<IResult> HandleAsync(string tenant, IQuerySession session, CancellationToken ct)
    {
        if (!UsageEventRules.IsValidTenant(tenant)) return BillingEndpoints.Invalid([new("tenant", UsageEventRules.TenantRule)], "The tenant is invalid.");
        return await session.LoadAsync<TenantTeamHistory>(tenant, ct) is { } history
            ? Results.Ok(history.ToView())
            : Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "No team",
                detail: $"Tenant '{tenant}' is mapped to no team; its cost is posted to '{TeamDirectory.Unallocated}'.");
    }
}
