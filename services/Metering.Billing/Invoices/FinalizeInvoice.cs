namespace Metering.Billing.Invoices;

/// <summary>
/// <c>POST /v1/invoices/{tenant}/{period}/finalize</c> (admin): freezes the invoice as priced now (an
/// <see cref="InvoiceFinalized"/> event on the month's usage stream). Usage that arrives for the month afterwards is
/// recorded on the next open month as adjustment lines. 404 without usage, 409 when already finalized, and 409 naming
/// the reason when the month has not ended (UTC, by the injected clock) or holds unpriced usage, unless the body says
/// <c>{"force":true}</c> / <c>{"allow_unpriced":true}</c> (<see cref="FinalizeRequest"/>). <see cref="TenantMonth.Finalize"/>
/// decides; the <see cref="BillingWriter"/> reads and writes.
/// </summary>
public static class FinalizeInvoice
{
    public static void MapFinalizeInvoice(this IEndpointRouteBuilder app) =>
        app.MapPost("/v1/invoices/{tenant}/{period}/finalize", HandleAsync).RequireAuthorization(Policies.Admin)
            .WithBodyLimit(FinalizeRequest.MaxBodyBytes)
            .WithName("FinalizeInvoice").WithTags("Invoices").WithSummary("Freeze a month's invoice; 409 naming the reason when it has not ended or holds unpriced usage")
            .AcceptsJson<FinalizeRequest>(isOptional: true)
            .Produces<InvoiceView>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesRetryLater();

    private static async Task<IResult> HandleAsync(string tenant, string period, HttpRequest request, ClaimsPrincipal user, BillingWriter writer,
        TimeProvider clock, CancellationToken ct)
    {
        var errors = InvoiceRoute.Errors(tenant, period);
        var bodyErrors = new List<FieldError>();
        var (options, status) = await FinalizeRequest.ReadAsync(request, bodyErrors, ct);
        foreach (var error in FieldError.ByField(bodyErrors)) errors.TryAdd(error.Key, error.Value);
        if (errors.Count > 0)
            return Results.ValidationProblem(errors, statusCode: options is null ? status : StatusCodes.Status400BadRequest,
                title: "The finalize request is invalid; nothing was changed.");

        // Under the tenant's lock no usage or void lands on the month between pricing it and freezing it.
        await using var write = await writer.BeginTenantMonthsAsync([tenant], ct);
        var usage = await write.MonthAsync(tenant, period, ct);
        var rateCards = await write.Session.LoadAsync<RateCardHistory>(RateCardHistory.StreamKey, ct);
        var later = await write.FinalizedFromAsync([(tenant, BillingPeriod.Next(period))], ct);
        switch (TenantMonth.Finalize(tenant, period, usage, options!, rateCards, later, clock.GetUtcNow(), user.Identity!.Name!))
        {
            case FinalizeOutcome.Finalized finalized:
                write.Append(finalized.Invoice);
                if (finalized.Carried is { } carried) write.Append(carried);
                await write.CommitAsync(ct);
                return Results.Ok(new InvoiceView(tenant, period, InvoiceStatuses.Finalized, Money.Currency, finalized.Invoice.Lines, finalized.Invoice.Total));
            case FinalizeOutcome.AlreadyFinalized already:
                return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Already finalized",
                    detail: $"The invoice of '{tenant}' for {period} was finalized at {already.At:O}.");
            case FinalizeOutcome.NotEnded:
                return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "The month has not ended",
                    detail: $"{period} has not ended (UTC): usage still to come would become adjustments on the next invoice. Send {{\"force\":true}} to finalize it anyway.");
            case FinalizeOutcome.Unpriced { Lines: var unpriced }:
                return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Unpriced usage",
                    detail: $"The invoice of '{tenant}' for {period} holds usage no rate-card version prices: " +
                            string.Join("; ", unpriced.Select(l => $"{l.Meter} {l.Model ?? l.GpuType} {l.Quantity.ToString(CultureInfo.InvariantCulture)}")) +
                            ". Add a version that prices it, or send {\"allow_unpriced\":true} to freeze it unbilled.",
                    extensions: new Dictionary<string, object?>
                    {
                        ["unpriced"] = unpriced.Select(l => new { meter = l.Meter, model = l.Model, gpu_type = l.GpuType, quantity = l.Quantity, adjustment_for = l.AdjustmentFor }).ToList(),
                    });
            default:
                return InvoiceRoute.NoInvoice(tenant, period);
        }
    }
}
