using System.Globalization;
using System.Security.Claims;
using Marten;
using Metering.Billing.Pricing;
using Metering.Billing.TenantMonths;
using Metering.Contracts.Billing;
using Metering.Contracts.Usage;
using Metering.ServiceDefaults;

namespace Metering.Billing.Invoicing;

/// <summary>
/// <c>POST /v1/invoices/{tenant}/{period}/finalize</c> (admin): freezes the invoice as priced now (an
/// <see cref="InvoiceFinalized"/> event on the month's usage stream). Usage that arrives for the month afterwards is
/// recorded on the next open month as adjustment lines. 404 without usage, 409 when already finalized, and 409 naming
/// the reason when the month has not ended (UTC, by the injected clock) or holds unpriced usage, unless the body says
/// <c>{"force":true}</c> / <c>{"allow_unpriced":true}</c> (<see cref="FinalizeRequest"/>).
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

    private static async Task<IResult> HandleAsync(string tenant, string period, HttpRequest request, ClaimsPrincipal user, IDocumentStore store,
        BillingDatabase database, TimeProvider clock, CancellationToken ct)
    {
        var errors = InvoiceRoute.Errors(tenant, period);
        var bodyErrors = new List<FieldError>();
        var (options, status) = await FinalizeRequest.ReadAsync(request, bodyErrors, ct);
        foreach (var error in FieldError.ByField(bodyErrors)) errors.TryAdd(error.Key, error.Value);
        if (errors.Count > 0)
            return Results.ValidationProblem(errors, statusCode: options is null ? status : StatusCodes.Status400BadRequest,
                title: "The finalize request is invalid; nothing was changed.");

        await using var connection = await database.DataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        // The tenant's recorder waits: no usage lands on the month between pricing it and freezing it.
        await BillingDatabase.LockTenantsAsync([tenant], connection, transaction, ct);
        await using var session = store.LightweightSession(Marten.Services.SessionOptions.ForTransaction(transaction, shouldAutoCommit: false));
        // Exclusive: a void of this month's usage waits for the freeze, or the freeze waits for the void.
        var stream = await session.Events.FetchForExclusiveWriting<MonthlyUsage>(BillingPeriod.UsageStream(tenant, period), ct);
        var usage = stream.Aggregate;
        if (usage is null)
            return InvoiceRoute.NoInvoice(tenant, period);
        if (usage.Finalized is not null)
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Already finalized",
                detail: $"The invoice of '{tenant}' for {period} was finalized at {usage.Finalized.At:O}.");
        BillingPeriod.TryParse(period, out var start);
        if (!options!.Force && clock.GetUtcNow() < new DateTimeOffset(start.AddMonths(1), TimeOnly.MinValue, TimeSpan.Zero))
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "The month has not ended",
                detail: $"{period} has not ended (UTC): usage still to come would become adjustments on the next invoice. Send {{\"force\":true}} to finalize it anyway.");

        var rateCards = await session.LoadAsync<RateCardHistory>(RateCardHistory.StreamKey, ct);
        var (lines, total) = InvoicePricing.Price(usage, rateCards);
        var unpriced = lines.Where(l => l.UnitPrice is null).ToList();
        if (unpriced.Count > 0 && !options.AllowUnpriced)
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Unpriced usage",
                detail: $"The invoice of '{tenant}' for {period} holds usage no rate-card version prices: " +
                        string.Join("; ", unpriced.Select(l => $"{l.Meter} {l.Model ?? l.GpuType} {l.Quantity.ToString(CultureInfo.InvariantCulture)}")) +
                        ". Add a version that prices it, or send {\"allow_unpriced\":true} to freeze it unbilled.",
                extensions: new Dictionary<string, object?>
                {
                    ["unpriced"] = unpriced.Select(l => new { meter = l.Meter, model = l.Model, gpu_type = l.GpuType, quantity = l.Quantity, adjustment_for = l.AdjustmentFor }).ToList(),
                });
        var frozen = new InvoiceFinalized(tenant, period, lines, total.ToString("0.00", CultureInfo.InvariantCulture), clock.GetUtcNow(), user.Identity!.Name!,
            rateCards?.Versions.Count ?? 0);
        stream.AppendOne(frozen);
        await CarryUnpricedAsync(session, usage, rateCards, frozen, ct);
        await session.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return Results.Ok(new InvoiceView(tenant, period, InvoiceStatuses.Finalized, GetInvoice.Currency, frozen.Lines, frozen.Total));
    }

    /// <summary>
    /// What the frozen invoice leaves unpriced goes on the tenant's next open month as adjustments (exclusive, like a
    /// void), so that it is billed there, once, when a version prices its day.
    /// </summary>
    private static async Task CarryUnpricedAsync(Marten.IDocumentSession session, MonthlyUsage usage, RateCardHistory? rateCards, InvoiceFinalized frozen,
        CancellationToken ct)
    {
        var days = InvoicePricing.UnpricedDays(usage, rateCards)
            .Select(d => d.AdjustmentFor is null ? d with { AdjustmentFor = usage.Month, FrozenRateCards = frozen.RateCardVersions } : d)
            .ToList();
        if (days.Count == 0) return;
        var month = BillingPeriod.Next(usage.Month);
        var next = await session.Events.FetchForExclusiveWriting<MonthlyUsage>(BillingPeriod.UsageStream(usage.Tenant, month), ct);
        while (next.Aggregate?.Finalized is not null)
        {
            month = BillingPeriod.Next(month);
            next = await session.Events.FetchForExclusiveWriting<MonthlyUsage>(BillingPeriod.UsageStream(usage.Tenant, month), ct);
        }
        next.AppendOne(new UnpricedUsageCarried(usage.Tenant, month, usage.Month, days));
    }
}
