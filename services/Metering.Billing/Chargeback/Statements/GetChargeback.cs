using Metering.Billing.Chargeback.Ledger;

namespace Metering.Billing.Chargeback.Statements;

/// <summary>
/// <c>GET /v1/chargeback/{period}?format=json|csv|focus&amp;team=</c> (admin; a viewer gets its team and the teams below
/// it). <c>team</c> narrows the statement to that team and the teams below it; a viewer asking for a team outside its
/// own gets 403. The CSV and FOCUS files are served only from a ledger that has posted every event recorded before
/// the request (else 503 with <c>Retry-After</c>).
/// </summary>
public static class GetChargeback
{
    public static readonly TimeSpan LedgerWait = TimeSpan.FromSeconds(5);

    public static void MapGetChargeback(this IEndpointRouteBuilder app) =>
        app.MapGet("/v1/chargeback/{period}", HandleAsync).RequireAuthorization(Policies.Reader)
            .WithName("GetChargeback").WithTags("Chargeback").WithSummary("Every team's statement of the month; ?format=csv or focus for CSV exports")
            .Produces<ChargebackStatementView>()
            .ProducesText(StatusCodes.Status200OK, "text/csv")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesRetryLater();

    private static async Task<IResult> HandleAsync(string period, string? format, string? team, ClaimsPrincipal user, IDocumentStore store,
        CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (!BillingPeriod.TryParse(period, out _)) errors["period"] = [BillingPeriod.Rule];
        if (format is not (null or "json" or "csv" or "focus")) errors["format"] = ["must be json, csv or focus"];
        if (team is not null && !Contracts.Usage.UsageEventRules.IsValidTenant(team)) errors["team"] = [Contracts.Usage.UsageEventRules.TenantRule];
        if (errors.Count > 0) return Results.ValidationProblem(errors);

        var scope = user.ViewerTeam();
        if (team is not null)
        {
            await using var session = store.QuerySession();
            var directory = await TeamDirectory.LoadAsync(session, ct, tenants: []);
            if (scope is not null && !directory.Covers(scope, team)) return BearerTokenHandler.Forbidden();
            if (!directory.Teams.ContainsKey(team) && team != TeamDirectory.Unallocated)
                return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "No team", detail: $"There is no team '{team}'.");
            scope = team;
        }

        var current = await LedgerProgress.WaitUntilCurrentAsync(store, LedgerWait, ct);
        // The JSON view says whether it is current; a downloaded file does not, so it is never served stale.
        if (!current && format is "csv" or "focus")
            return RetryLater.Problem("The ledger is catching up",
                "The chargeback ledger has not yet posted all usage recorded; the export would be incomplete. Try again shortly.");
        var statement = await LoadAsync(store, period, scope, ct);
        return format switch
        {
            "csv" => Results.Text(StatementCsv.Write(statement), "text/csv; charset=utf-8"),
            "focus" => Results.Text(FocusExport.Write(statement, await LoadRateCardsAsync(store, ct)), "text/csv; charset=utf-8"),
            _ => Results.Ok(statement.ToView(current)),
        };
    }

    private static async Task<RateCardHistory?> LoadRateCardsAsync(IDocumentStore store, CancellationToken ct)
    {
        await using var session = store.QuerySession();
        return await session.LoadAsync<RateCardHistory>(RateCardHistory.StreamKey, ct);
    }

    public static async Task<ChargebackStatement> LoadAsync(IDocumentStore store, string period, string? scope, CancellationToken ct)
    {
        await using var session = store.QuerySession();
        var balances = await session.Query<LedgerBalance>().Where(b => b.Month == period).ToListAsync(ct);
        var capacity = await session.LoadAsync<CapacityAllocation>(period, ct);
        // The statement names teams and their hierarchy; it needs no tenant's mapping.
        var directory = (await TeamDirectory.LoadAsync(session, ct, tenants: []))
            .AsPosted(await session.LoadAsync<PeriodTeams>(period, ct));
        return new ChargebackStatement(period, balances, capacity, directory, scope);
    }
}
