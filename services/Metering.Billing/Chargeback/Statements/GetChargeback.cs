using System.Security.Claims;
using Marten;
using Metering.Billing.Chargeback.Ledger;
using Metering.Billing.Chargeback.Teams;
using Metering.Billing.Recording;
using Metering.ServiceDefaults;

namespace Metering.Billing.Chargeback.Statements;

/// <summary>
/// <c>GET /v1/chargeback/{period}?format=json|csv|focus</c> (admin; a viewer gets its team and the teams below it).
/// </summary>
public static class GetChargeback
{
    public static readonly TimeSpan LedgerWait = TimeSpan.FromSeconds(5);

    public static void MapGetChargeback(this IEndpointRouteBuilder app) =>
        app.MapGet("/v1/chargeback/{period}", HandleAsync).RequireAuthorization(Policies.Reader);

    private static async Task<IResult> HandleAsync(string period, string? format, ClaimsPrincipal user, IDocumentStore store, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (!BillingPeriod.TryParse(period, out _)) errors["period"] = ["must be a month as YYYY-MM"];
        if (format is not (null or "json" or "csv" or "focus")) errors["format"] = ["must be json, csv or focus"];
        if (errors.Count > 0) return Results.ValidationProblem(errors);

        var current = await LedgerProgress.WaitUntilCurrentAsync(store, LedgerWait, ct);
        var statement = await LoadAsync(store, period, user.ViewerTeam(), ct);
        return format switch
        {
            "csv" => Results.Text(StatementCsv.Write(statement), "text/csv; charset=utf-8"),
            "focus" => Results.Text(FocusExport.Write(statement), "text/csv; charset=utf-8"),
            _ => Results.Ok(statement.ToView(current)),
        };
    }

    public static async Task<ChargebackStatement> LoadAsync(IDocumentStore store, string period, string? scope, CancellationToken ct)
    {
        await using var session = store.QuerySession();
        var balances = await session.Query<LedgerBalance>().Where(b => b.Month == period).ToListAsync(ct);
        var capacity = await session.LoadAsync<CapacityAllocation>(period, ct);
        var directory = await session.LoadAsync<TeamDirectory>(TeamDirectory.StreamKey, ct) ?? TeamDirectory.Empty;
        return new ChargebackStatement(period, balances, capacity, directory, scope);
    }
}
