namespace Metering.Billing.Chargeback.Teams;

/// <summary><c>PUT /v1/teams/{team}</c> (admin): defines or changes a team, optionally below a parent; written by <see cref="TeamWrites.DefineAsync"/>.</summary>
public static class PutTeam
{
    public static void MapPutTeam(this IEndpointRouteBuilder app) =>
        app.MapAdminPut<TeamRequest, TeamView>("/v1/teams/{team}", HandleAsync, TeamRequests.MaxBodyBytes,
            "PutTeam", "Chargeback", "Define or change a team (cost centre), optionally below a parent team");

    private static async Task<IResult> HandleAsync(string team, HttpRequest request, ClaimsPrincipal user, BillingWriter writer, TimeProvider clock,
        CancellationToken ct)
    {
        const string invalid = "The team is invalid; nothing was changed.";
        var errors = new List<FieldError>();
        if (!UsageEventRules.IsValidTenant(team)) errors.Add(new("team", UsageEventRules.TenantRule));
        else if (team == TeamDirectory.Unallocated) errors.Add(new("team", $"'{TeamDirectory.Unallocated}' is reserved for tenants without a team"));
        using var json = await JsonBody.ReadAsync(request, ct);
        if (json.Error is { } unread) return BillingEndpoints.Invalid([.. errors, unread], invalid, json.StatusCode);
        var body = TeamRequests.ReadTeam(json.Root, errors);
        if (errors.Count > 0 || body is null) return BillingEndpoints.Invalid(errors, invalid);

        return BillingEndpoints.Written(await TeamWrites.DefineAsync(writer, team, body, user.Identity!.Name!, clock.GetUtcNow(), errors, ct), errors, invalid);
    }
}
