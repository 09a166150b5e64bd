namespace Metering.Billing.RateCards;

/// <summary>
/// <c>GET /v1/rate-card?on=YYYY-MM-DD</c> (admin, viewer): the price list in effect that day (default: today, UTC), 404
/// when none is; <c>GET /v1/rate-card</c> without <c>on</c> by an admin: every version.
/// </summary>
public static class GetRateCard
{
    public static void MapGetRateCard(this IEndpointRouteBuilder app) =>
        app.MapGet("/v1/rate-card", HandleAsync).RequireAuthorization(Policies.Reader)
            .WithName("GetRateCard").WithTags("Rate card")
            .WithSummary("The price list in effect on ?on=YYYY-MM-DD (default today, UTC)")
            .WithDescription("Without `on`, an admin gets every version instead: `{\"versions\":[...]}` (RateCardVersionsView).")
            .WithQueryParameter("on", "A UTC day as YYYY-MM-DD; default today")
            .Produces<RateCardOnView>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound).ProducesRetryLater();

    private static async Task<IResult> HandleAsync(HttpRequest request, ClaimsPrincipal user, IQuerySession session, TimeProvider clock, CancellationToken ct)
    {
        var day = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        var asOf = request.Query.TryGetValue("on", out var on);
        if (asOf && (on.Count != 1 || !DateOnly.TryParseExact(on[0], "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture,
                System.Globalization.DateTimeStyles.None, out day)))
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["on"] = ["must be one date as YYYY-MM-DD"] });
        var history = await session.LoadAsync<RateCardHistory>(RateCardHistory.StreamKey, ct);
        if (!asOf && user.IsInRole(Roles.Admin))
            return Results.Ok(new RateCardVersionsView(history?.Versions.Select(v => v.ToView()).ToList() ?? []));
        if (history?.InEffectOn(day) is not { } version)
            return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "No rate card", detail: $"No rate-card version is in effect on {day:yyyy-MM-dd}.");
        var view = version.ToView();
        return Results.Ok(new RateCardOnView(view.Currency, view.EffectiveFrom, view.Version, view.Prices));
    }
}
