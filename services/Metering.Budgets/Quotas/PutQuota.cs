using System.Security.Claims;
using Metering.Budgets.TenantBudgets;

namespace Metering.Budgets.Quotas;

/// <summary><c>PUT /v1/tenants/{tenant}/quota</c> (admin): replaces a tenant's limits (audited) and answers the budget.</summary>
public static class PutQuota
{
    /// <summary>Tokens belong to roles, not people: this optional header names the person behind a change in the history.</summary>
    public const string ActorHeader = QuotaHeaders.Actor;
    public const long MaxBodyBytes = 64 * 1024;

    public static void MapPutQuota(this IEndpointRouteBuilder app) =>
        app.MapPut("/v1/tenants/{tenant}/quota", HandleAsync).RequireAuthorization(Policies.Admin).WithBodyLimit(MaxBodyBytes)
            .WithName("PutQuota").WithTags("Budgets").WithSummary("Replace a tenant's limits (audited); answers the budget")
            .WithHeaderParameter(ActorHeader, "The person behind the change, for the history: 1 to 128 printable characters")
            .AcceptsJson<QuotaRequest>().Produces<BudgetView>().ProducesRetryLater();

    private static async Task<IResult> HandleAsync(string tenant, HttpRequest request, ClaimsPrincipal user, TenantBudgetGrains grains, CancellationToken ct)
    {
        if (!UsageEventRules.IsValidTenant(tenant)) return BudgetProblems.Invalid([new("tenant", UsageEventRules.TenantRule)]);
        string? actor = request.Headers[ActorHeader];
        if (actor is not null && (actor.Length is 0 or > 128 || actor.Any(char.IsControl)))
            return BudgetProblems.Invalid([new(ActorHeader, "must be 1 to 128 printable characters")]);

        using (var body = await JsonBody.ReadAsync(request, ct))
        {
            if (body.Error is { } unread) return BudgetProblems.Invalid([unread], body.StatusCode);
            var errors = new List<FieldError>();
            var limits = QuotaRules.Read(body.Root, errors);
            if (limits is null) return BudgetProblems.Invalid(errors);
            var changedBy = actor is null ? user.Identity!.Name! : $"{user.Identity!.Name}/{actor}";
            return await BudgetProblems.OrUnavailable(async () => Results.Ok(await grains.Of(tenant).SetQuota(limits, changedBy)));
        }
    }
}
