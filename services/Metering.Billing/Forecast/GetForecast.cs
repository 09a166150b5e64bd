using Metering.Billing.Chargeback.Ledger;
using Metering.Billing.Spend;
using Metering.Forecasting;

namespace Metering.Billing.Forecast;

/// <summary>
/// <c>GET /v1/forecast/{period}?tenant=&amp;team=&amp;as_of=</c> (admin, viewer): the month-end spend forecast of the
/// platform, one tenant or one team and the teams below it (PRODUCT §5a), from the spend tables (<see cref="SpendForecast"/>).
/// <c>as_of</c> (default now) makes the forecast as it would have been made then, from the spend recorded for the days
/// before it, usage recorded later for those days included. Viewers are scoped like <c>GET /v1/spend</c>
/// (<see cref="SpendScope"/>), judged on the period's days through the as-of day.
/// </summary>
public static class GetForecast
{
    private const string AsOfRule = "must be an RFC 3339 date-time such as 2026-11-20T00:00:00Z";

    public static void MapGetForecast(this IEndpointRouteBuilder app) =>
        app.MapGet("/v1/forecast/{period}", HandleAsync).RequireAuthorization(Policies.Reader)
            .WithName("GetForecast")
            .WithSummary("Month-end spend forecast of a period with its 80 % interval, as of now or of a past moment")
            .Produces<ForecastView>()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);

    private static async Task<IResult> HandleAsync(string period, string? tenant, string? team, string? as_of, ClaimsPrincipal user,
        IDocumentStore store, SpendQuery query, TimeProvider clock, CancellationToken ct)
    {
        var (request, errors) = Read(period, tenant, team, as_of, clock.GetUtcNow());
        if (request is null) return Results.ValidationProblem(errors);

        await LedgerProgress.WaitUntilCurrentAsync(store, SpendProjection.Name, GetSpend.ProjectionWait, ct);
        var (forbidden, scope) = await SpendScope.OfAsync(user, tenant, team, request.Period.FirstDay, request.LastActualDay, store, query, ct);
        if (forbidden) return BearerTokenHandler.Forbidden();
        request = request with { Team = scope };
        var (rows, rateCards) = await query.ReadAsync(request.ToSpendRequest(), ct);
        return Results.Ok(SpendForecast.Of(request, rows, rateCards, clock.GetUtcNow()));
    }

    /// <summary>The request when every parameter holds, else the errors per parameter.</summary>
    public static (ForecastRequest? Request, Dictionary<string, string[]> Errors) Read(string? period, string? tenant, string? team, string? asOf, DateTimeOffset now)
    {
        var errors = new Dictionary<string, string[]>();
        ForecastPeriod? month = period is not null && BillingPeriod.TryParse(period, out var start) ? new ForecastPeriod(start.Year, start.Month) : null;
        if (month is null) errors["period"] = ["must be a month as YYYY-MM of the years 2000 to 9998"];
        if (tenant is not null && !UsageEventRules.IsValidTenant(tenant)) errors["tenant"] = [UsageEventRules.TenantRule];
        if (team is not null && !UsageEventRules.IsValidTenant(team)) errors["team"] = [UsageEventRules.TenantRule];
        if (tenant is not null && team is not null)
        {
            errors["tenant"] = ["give tenant or team, not both"];
            errors["team"] = ["give tenant or team, not both"];
        }

        var moment = now;
        if (asOf is not null)
        {
            if (!UsageEventJson.TryParseTimestamp(asOf, out moment)) errors["as_of"] = [AsOfRule];
            else if (moment > now) errors["as_of"] = ["must not be in the future"];
        }
        if (month is { } m && !errors.ContainsKey("as_of") && DateOnly.FromDateTime(moment.UtcDateTime) < m.FirstDay)
        {
            if (asOf is null) errors["period"] = ["must not be after the current month"];
            else errors["as_of"] = ["must not be before the period's first day, " + m.FirstDay.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)];
        }
        return errors.Count > 0 ? (null, errors) : (new ForecastRequest(month!.Value, moment, tenant, team), errors);
    }
}
