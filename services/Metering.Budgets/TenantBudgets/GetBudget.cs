namespace Metering.Budgets.TenantBudgets;

/// <summary><c>GET /v1/tenants/{tenant}/budget</c>: usage of the current UTC day and month, limits and status.</summary>
public static class GetBudget
{
    public static void MapGetBudget(this IEndpointRouteBuilder app) =>
        app.MapGet("/v1/tenants/{tenant}/budget", HandleAsync).RequireAuthorization(Policies.Emitter)
            .WithName("GetBudget").WithTags("Budgets").WithSummary("A tenant's usage of the current UTC day and month, its limits and status")
            .Produces<BudgetView>().ProducesValidationProblem().ProducesRetryLater();

    private static async Task<IResult> HandleAsync(string tenant, TenantBudgetGrains grains, BudgetStore store, TimeProvider clock, CancellationToken ct)
    {
        if (!UsageEventRules.IsValidTenant(tenant)) return BudgetProblems.Invalid([new("tenant", UsageEventRules.TenantRule)]);
        // Any id can be asked for: one Budgets has never seen is answered from the store, without activating a grain for it.
        if (!await store.IsKnownAsync(tenant, ct)) return Results.Ok(new TenantBudget().View(tenant, clock.GetUtcNow()));
        return await BudgetProblems.OrUnavailable(async () => Results.Ok(await grains.Of(tenant).GetBudget()));
    }
}
