using System.Text.Json;
using System.Text.RegularExpressions;

namespace Metering.Billing.Chargeback.Teams;

/// <summary>
/// <c>PUT /v1/teams/{team}</c>, <c>GET /v1/teams</c>, <c>PUT</c> and <c>GET /v1/tenants/{tenant}/team</c> (admin).
/// Every change is an event on the <c>teams</c> stream, written by <see cref="TeamWrites"/>.
/// </summary>
public static partial class TeamEndpoints
{
    private sealed record TenantTeamFields(string? Team);

    public const int MaxNameLength = 200;
    public const long MaxBodyBytes = 16 * 1024;

    public static void MapTeams(this IEndpointRouteBuilder app)
    {
        app.MapPut("/v1/teams/{team}", PutTeamAsync).RequireAuthorization(Policies.Admin).WithBodyLimit(MaxBodyBytes)
            .WithName("PutTeam").WithTags("Chargeback").WithSummary("Define or change a team (cost centre), optionally below a parent team")
            .AcceptsJson<TeamRequest>().Produces<TeamView>().ProducesRetryLater();
        app.MapGet("/v1/teams", GetTeamsAsync).RequireAuthorization(Policies.Admin)
            .WithName("GetTeams").WithTags("Chargeback").WithSummary("Every team and its tenants")
            .Produces<TeamsView>().ProducesRetryLater();
        app.MapPut("/v1/tenants/{tenant}/team", PutTenantTeamAsync).RequireAuthorization(Policies.Admin).WithBodyLimit(MaxBodyBytes)
            .WithName("PutTenantTeam").WithTags("Chargeback").WithSummary("Map a tenant to the team its cost is charged to")
            .AcceptsJson<TenantTeamRequest>().Produces<TenantTeamView>().ProducesRetryLater();
        app.MapGet("/v1/tenants/{tenant}/team", GetTenantTeamAsync).RequireAuthorization(Policies.Admin)
            .WithName("GetTenantTeam").WithTags("Chargeback").WithSummary("A tenant's team and every earlier mapping")
            .Produces<TenantTeamView>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound).ProducesRetryLater();
    }

    private static async Task<IResult> PutTeamAsync(string team, HttpRequest request, ClaimsPrincipal user, BillingWriter writer, TimeProvider clock,
        CancellationToken ct)
    {
        const string invalid = "The team is invalid; nothing was changed.";
        var errors = new List<FieldError>();
        if (!UsageEventRules.IsValidTenant(team)) errors.Add(new("team", UsageEventRules.TenantRule));
        else if (team == TeamDirectory.Unallocated) errors.Add(new("team", $"'{TeamDirectory.Unallocated}' is reserved for tenants without a team"));
        using var json = await JsonBody.ReadAsync(request, ct);
        if (json.Error is { } unread) return Invalid([.. errors, unread], invalid, json.StatusCode);
        var body = ReadTeam(json.Root, errors);
        if (errors.Count > 0 || body is null) return Invalid(errors, invalid);

        return await TeamWrites.DefineAsync(writer, team, body, user.Identity!.Name!, clock.GetUtcNow(), errors, ct) is { } view
            ? Results.Ok(view)
            : Invalid(errors, invalid);
    }

    private static async Task<IResult> GetTeamsAsync(IQuerySession session, CancellationToken ct)
    {
        var directory = await TeamDirectory.LoadAsync(session, ct);
        return Results.Ok(new TeamsView(directory.Teams.Keys.Order(StringComparer.Ordinal).Select(directory.ToView).ToList()));
    }

    private static async Task<IResult> PutTenantTeamAsync(string tenant, HttpRequest request, ClaimsPrincipal user, BillingWriter writer, TimeProvider clock,
        CancellationToken ct)
    {
        const string invalid = "The mapping is invalid; nothing was changed.";
        var errors = new List<FieldError>();
        if (!UsageEventRules.IsValidTenant(tenant)) errors.Add(new("tenant", UsageEventRules.TenantRule));
        using var json = await JsonBody.ReadAsync(request, ct);
        if (json.Error is { } unread) return Invalid([.. errors, unread], invalid, json.StatusCode);
        var body = IsObject(json.Root, errors) ? new TenantTeamFields(JsonFields.Text(json.Root, "team", "team", errors)) : null;
        if (body is not null && !UsageEventRules.IsValidTenant(body.Team)) errors.Add(new("team", UsageEventRules.TenantRule));
        if (errors.Count > 0 || body is null) return Invalid(errors, invalid);

        return await TeamWrites.AssignAsync(writer, tenant, body.Team!, user.Identity!.Name!, clock.GetUtcNow(), errors, ct) is { } view
            ? Results.Ok(view)
            : Invalid(errors, invalid);
    }

    private static async Task<IResult> GetTenantTeamAsync(string tenant, IQuerySession session, CancellationToken ct)
    {
        if (!UsageEventRules.IsValidTenant(tenant)) return Invalid([new("tenant", UsageEventRules.TenantRule)], "The tenant is invalid.");
        return await session.LoadAsync<TenantTeamHistory>(tenant, ct) is { } history
            ? Results.Ok(history.ToView())
            : Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "No team",
                detail: $"Tenant '{tenant}' is mapped to no team; its cost is posted to '{TeamDirectory.Unallocated}'.");
    }

    private static TeamFields? ReadTeam(JsonElement root, List<FieldError> errors)
    {
        if (!IsObject(root, errors)) return null;
        var body = new TeamFields(JsonFields.Text(root, "name", "name", errors), JsonFields.Text(root, "cost_center", "cost_center", errors),
            JsonFields.Text(root, "parent", "parent", errors));
        if (body.Name is not { Length: >= 1 and <= MaxNameLength } || string.IsNullOrWhiteSpace(body.Name) || !TextRules.IsIdentifier(body.Name))
            errors.Add(new("name", $"must be 1 to {MaxNameLength} printable characters"));
        if (body.CostCenter is null || !CostCenterPattern().IsMatch(body.CostCenter))
            errors.Add(new("cost_center", "must match ^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$"));
        if (body.Parent is not null && !UsageEventRules.IsValidTenant(body.Parent)) errors.Add(new("parent", UsageEventRules.TenantRule));
        return body;
    }

    private static bool IsObject(JsonElement root, List<FieldError> errors)
    {
        if (root.ValueKind == JsonValueKind.Object) return true;
        errors.Add(new("$", "must be a JSON object"));
        return false;
    }

    internal static IResult Invalid(IEnumerable<FieldError> errors, string title, int statusCode = StatusCodes.Status400BadRequest) =>
        Results.ValidationProblem(FieldError.ByField(errors), statusCode: statusCode, title: title);

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}\z")]
    private static partial Regex CostCenterPattern();
}
