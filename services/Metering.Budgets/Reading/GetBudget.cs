namespace Metering.Budgets.Reading;

/// <summary><c>GET /v1/tenants/{tenant}/budget</c>: usage of the current UTC day and month, limits and status.</summary>
public static class GetBudget
{
    public static void MapGetBudget(this IEndpointRouteBuilder app) =>
        app.MapGet("/v1/tenants/{tenant}/budget", HandleAsync).RequireAuthorization(Policies.Emitter)
            .WithName("GetBudget").WithTags("Budgets").WithSummary("A tenant's usage of the current UTC day and month, its limits and status")
            .Produces<BudgetView>().ProducesValidationProblem().ProducesRetryLater();

    private static async Task<IResult> HandleAsync(string tenant, IGrainFactory grains, BudgetStore store, TimeProvider clock, CancellationToken ct)
    {
        if (!UsageEventRules.IsValidTenant(tenant)) return BudgetProblems.Invalid([new("tenant", UsageEventRules.TenantRule)]);
        // Any id can be asked for: one Budgets has never seen is answered from the store, without activating a grain for it.
        if (!await store.IsKnownAsync(tenant, ct)) return Results.Ok(new TenantBudget().View(tenant, clock.GetUtcNow()));
        return await BudgetProblems.OrUnavailable(async () => Results.Ok(await grains.GetGrain<ITenantBudgetGrain>(tenant).GetBudget()));
    }
}

/// <summary>The problem answers every Budgets endpoint shares.</summary>
public static class BudgetProblems
{
    public static IResult Invalid(IEnumerable<FieldError> errors, int statusCode = StatusCodes.Status400BadRequest) =>
        Results.ValidationProblem(FieldError.ByField(errors), statusCode: statusCode,
            title: "The request is invalid; nothing was changed.");

    /// <summary>
    /// 503 with <c>Retry-After</c> while the tenant's grain moves to another silo (one died or is leaving): a moment later it
    /// answers. A database outage is left to the one handler of every service (<see cref="DatabaseOutage"/>).
    /// </summary>
    public static async Task<IResult> OrUnavailable(Func<Task<IResult>> call)
    {
        try
        {
            return await call();
        }
        catch (Exception ex) when (ex is OrleansException or TimeoutException && !DatabaseOutage.Is(ex))
        {
            return RetryLater.Problem("Budget temporarily unavailable", "The tenant's budget is moving between silos; retry in a few seconds.");
        }
    }
}
