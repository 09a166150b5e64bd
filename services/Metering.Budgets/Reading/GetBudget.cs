using Metering.Budgets.Tracking;
using Metering.Contracts.Budgets;
using Metering.Contracts.Usage;
using Metering.ServiceDefaults;

namespace Metering.Budgets.Reading;

/// <summary><c>GET /v1/tenants/{tenant}/budget</c>: usage of the current UTC day and month, limits and status.</summary>
public static class GetBudget
{
    public static void MapGetBudget(this IEndpointRouteBuilder app) =>
        app.MapGet("/v1/tenants/{tenant}/budget", HandleAsync).RequireAuthorization(Policies.Emitter);

    private static async Task<IResult> HandleAsync(string tenant, IGrainFactory grains)
    {
        if (!UsageEventRules.IsValidTenant(tenant))
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["tenant"] = ["must match ^[a-z0-9][a-z0-9-]{0,62}$"] });

        IReadOnlyList<PeriodTotal> totals;
        try
        {
            totals = await grains.GetGrain<ITenantBudgetGrain>(tenant).GetCurrentTotals();
        }
        catch (Exception ex) when (ex is OrleansException or TimeoutException)
        {
            // The tenant's grain is moving to another silo (one died or is leaving): a moment later it answers.
            return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Budget temporarily unavailable",
                detail: "The tenant's budget is moving between silos; retry in a few seconds.",
                extensions: new Dictionary<string, object?> { ["retry_after_seconds"] = 5 });
        }
        var usage = totals.Select(t => new MeterUsageView(t.Meter, t.Period, t.Used)).ToList();
        return Results.Ok(new BudgetView(tenant, BudgetStatuses.Ok, usage, []));
    }
}
