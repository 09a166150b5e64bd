using System.Security.Claims;
using Metering.Budgets.TenantBudgets;

namespace Metering.Budgets.Quotas;

/// <summary><c>GET /v1/tenants/{tenant}/quota/history</c> (admin): every change of a tenant's quota, who, when, before and after.</summary>
public static class GetQuotaHistory
{
    public static void MapGetQuotaHistory(this IEndpointRouteBuilder app) =>
        app.MapGet("/v1/tenants/{tenant}/quota/history", HandleAsync).RequireAuthorization(Policies.Admin)
            .WithName("GetQuotaHistory").WithTags("Budgets").WithSummary("Every change of a tenant's quota: who, when, before, after")
            .Produces<QuotaHistoryView>().ProducesValidationProblem().ProducesRetryLater();

    private static async Task<IResult> HandleAsync(string tenant, QuotaStore quotas, CancellationToken ct)
    {
        if (!UsageEventRules.IsValidTenant(tenant)) return BudgetProblems.Invalid([new("tenant", UsageEventRules.TenantRule)]);
        return Results.Ok(new QuotaHistoryView(tenant, await quotas.HistoryAsync(tenant, ct)));
    }
}
