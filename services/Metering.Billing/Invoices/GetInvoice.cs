namespace Metering.Billing.Invoices;

/// <summary><c>GET /v1/invoices/{tenant}/{period}</c> (admin, viewer of its team): the tenant's invoice of one UTC month.</summary>
public static class GetInvoice
{
    public static void MapGetInvoice(this IEndpointRouteBuilder app) =>
        app.MapGet("/v1/invoices/{tenant}/{period}", HandleAsync).RequireAuthorization(Policies.Reader)
            .WithName("GetInvoice").WithTags("Invoices").WithSummary("A tenant's invoice of one UTC month (draft until finalized)")
            .Produces<InvoiceView>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound).ProducesRetryLater();

    private static async Task<IResult> HandleAsync(string tenant, string period, ClaimsPrincipal user, IQuerySession session, CancellationToken ct)
    {
        var errors = InvoiceRoute.Errors(tenant, period);
        if (errors.Count > 0) return Results.ValidationProblem(errors);
        if (!await TenantAccess.MayReadAsync(user, tenant, period, session, ct)) return BearerTokenHandler.Forbidden();

        var usage = await session.LoadAsync<MonthlyUsage>(BillingPeriod.UsageStream(tenant, period), ct);
        if (usage is null)
            return InvoiceRoute.NoInvoice(tenant, period);

        if (usage.Finalized is { } frozen)
            return Results.Ok(new InvoiceView(tenant, period, InvoiceStatuses.Finalized, Money.Currency, frozen.Lines, frozen.Total));
        var rateCards = await session.LoadAsync<RateCardHistory>(RateCardHistory.StreamKey, ct);
        var (lines, total) = InvoicePricing.Price(usage, rateCards);
        return Results.Ok(new InvoiceView(tenant, period, InvoiceStatuses.Draft, Money.Currency, lines, Money.Format(total)));
    }
}
