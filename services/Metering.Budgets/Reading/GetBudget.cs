using Metering.Budgets.Tracking;
using Metering.Contracts.Usage;
using Metering.ServiceDefaults;

namespace Metering.Budgets.Reading;

/// <summary><c>GET /v1/tenants/{tenant}/budget</c>: usage of the current UTC day and month, limits and status.</summary>
public static class GetBudget
{
    public static void MapGetBudget(this IEndpointRouteBuilder app) =>
        app.MapGet("/v1/tenants/{tenant}/budget", HandleAsync).RequireAuthorization(Policies.Emitter);

    private static Task<IResult> HandleAsync(string tenant, IGrainFactory grains) =>
        !UsageEventRules.IsValidTenant(tenant)
            ? Task.FromResult(BudgetProblems.Invalid([new("tenant", UsageEventRules.TenantRule)]))
            : BudgetProblems.OrUnavailable(async () => Results.Ok(await grains.GetGrain<ITenantBudgetGrain>(tenant).GetBudget()));
}

/// <summary>The problem answers every Budgets endpoint shares.</summary>
public static class BudgetProblems
{
    public static IResult Invalid(IEnumerable<FieldError> errors, int statusCode = StatusCodes.Status400BadRequest) =>
        Results.ValidationProblem(FieldError.ByField(errors), statusCode: statusCode,
            title: "The request is invalid; nothing was changed.");

    /// <summary>503 while the tenant's grain moves to another silo (one died or is leaving): a moment later it answers.</summary>
    public static async Task<IResult> OrUnavailable(Func<Task<IResult>> call)
    {
        try
        {
            return await call();
        }
        catch (Exception ex) when (ex is OrleansException or TimeoutException)
        {
            return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Budget temporarily unavailable",
                detail: "The tenant's budget is moving between silos; retry in a few seconds.",
                extensions: new Dictionary<string, object?> { ["retry_after_seconds"] = 5 });
        }
    }
}
