namespace Metering.Billing.Chargeback.Teams;

/// <summary><c>GET /v1/teams</c> (admin): every team and its tenants now.</summary>
public static class GetTeams
{
    public static void MapGetTeams(this IEndpointRouteBuilder app) =>
        app.MapGet("/v1/teams", HandleAsync).RequireAuthorization(Policies.Admin)
            .WithName("GetTeams").WithTags("Chargeback").WithSummary("Every team and its tenants")
            .Produces<TeamsView>().ProducesRetryLater();

    private static async Task<IResult> HandleAsync(IQuerySession session, CancellationToken ct)
    {
        var directory = await TeamDirectory.LoadAsync(session, ct);
        return Results.Ok(new TeamsView(directory.Teams.Keys.Order(StringComparer.Ordinal).Select(directory.ToView).ToList()));
    }
}
