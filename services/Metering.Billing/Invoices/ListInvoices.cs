namespace Metering.Billing.Invoices;

/// <summary>
/// <c>GET /v1/invoices?period=YYYY-MM</c> (admin, viewer): every tenant's invoice of the period with its status, total
/// and team now, and their sum. A viewer gets the invoices it may read (<see cref="TenantAccess"/>), never others.
/// </summary>
public static class ListInvoices
{
    public static void MapListInvoices(this IEndpointRouteBuilder app) =>
        app.MapGet("/v1/invoices", HandleAsync).RequireAuthorization(Policies.Reader)
            .WithName("ListInvoices")
            .WithSummary("The period's invoices with their status and total")
            .Produces<InvoiceListView>()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);

    private static async Task<IResult> HandleAsync(string? period, ClaimsPrincipal user, IQuerySession session, BillingDatabase database, CancellationToken ct)
    {
        if (period is null || !BillingPeriod.TryParse(period, out _))
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["period"] = [period is null ? "is required: a month as YYYY-MM" : BillingPeriod.Rule] });

        IEnumerable<InvoiceTotal> invoices = await MonthInvoices.TotalsAsync(session, database, period, null, ct);
        if (user.ViewerTeam() is { } scope)
        {
            var readable = await TenantAccess.ReadableAsync(scope, period, invoices.Select(i => i.Tenant), session, ct);
            invoices = invoices.Where(i => readable.Contains(i.Tenant));
        }
        var directory = await TeamDirectory.LoadAsync(session, ct);
        var list = invoices.ToList();
        return Results.Ok(new InvoiceListView(period,
            list.Select(i => new InvoiceSummaryView(i.Tenant, directory.Tenants.ContainsKey(i.Tenant) ? directory.TeamOf(i.Tenant) : null, i.Status, Money.Format(i.Total))).ToList(),
            Money.Format(list.Sum(i => i.Total))));
    }
}
