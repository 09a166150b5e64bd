namespace Metering.Billing.Chargeback.Teams;

/// <summary><c>PUT /v1/tenants/{tenant}/team</c> (admin): maps a tenant to the team its cost is charged to; written by <see cref="TeamWrites.AssignAsync"/>.</summary>
public static class PutTenantTeam
{
    public static void MapPutTenantTeam(this IEndpointRouteBuilder app) =>
        app.MapAdminPut<TenantTeamRequest, TenantTeamView>("/v1/tenants/{tenant}/team", HandleAsync, TeamRequests.MaxBodyBytes,
            "PutTenantTeam", "Chargeback", "Map a tenant to the team its cost is charged to");

    private static async Task<IResult> HandleAsync(string tenant, HttpRequest request, ClaimsPrincipal user, BillingWriter writer, TimeProvider clock,
        CancellationToken ct)
    {
        const string invalid = "The mapping is invalid; nothing was changed.";
        var errors = new List<FieldError>();
        if (!UsageEventRules.IsValidTenant(tenant)) errors.Add(new("tenant", UsageEventRules.TenantRule));
        using var json = await JsonBody.ReadAsync(request, ct);
        if (json.Error is { } unread) return BillingEndpoints.Invalid([.. errors, unread], invalid, json.StatusCode);
        var team = TeamRequests.ReadTenantTeam(json.Root, errors, out var isObject);
        if (isObject && !UsageEventRules.IsValidTenant(team)) errors.Add(new("team", UsageEventRules.TenantRule));
        if (errors.Count > 0 || !isObject) return BillingEndpoints.Invalid(errors, invalid);

        return BillingEndpoints.Written(await TeamWrites.AssignAsync(writer, tenant, team!, user.Identity!.Name!, clock.GetUtcNow(), errors, ct), errors, invalid);
    }
}
