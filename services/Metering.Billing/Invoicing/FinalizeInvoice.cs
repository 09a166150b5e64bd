using System.Globalization;
using System.Security.Claims;
using Marten;
using Metering.Billing.Pricing;
using Metering.Billing.Recording;
using Metering.Contracts.Billing;
using Metering.ServiceDefaults;

namespace Metering.Billing.Invoicing;

/// <summary>
/// <c>POST /v1/invoices/{tenant}/{period}/finalize</c> (admin): freezes the invoice as priced now (an
/// <see cref="InvoiceFinalized"/> event on the month's usage stream). Usage that arrives for the month afterwards is
/// recorded on the next open month as adjustment lines. 404 without usage, 409 when already finalized.
/// </summary>
public static class FinalizeInvoice
{
    public static void MapFinalizeInvoice(this IEndpointRouteBuilder app) =>
        app.MapPost("/v1/invoices/{tenant}/{period}/finalize", HandleAsync).RequireAuthorization(Policies.Admin);

    private static async Task<IResult> HandleAsync(string tenant, string period, ClaimsPrincipal user, IDocumentStore store, BillingDatabase database,
        TimeProvider clock, CancellationToken ct)
    {
        var errors = InvoiceRoute.Errors(tenant, period);
        if (errors.Count > 0) return Results.ValidationProblem(errors);

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

        var (lines, total) = InvoicePricing.Price(usage, await session.LoadAsync<RateCardHistory>(RateCardHistory.StreamKey, ct));
        var frozen = new InvoiceFinalized(tenant, period, lines, total.ToString("0.00", CultureInfo.InvariantCulture), clock.GetUtcNow(), user.Identity!.Name!);
        stream.AppendOne(frozen);
        await session.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return Results.Ok(new InvoiceView(tenant, period, InvoiceStatuses.Finalized, GetInvoice.Currency, frozen.Lines, frozen.Total));
    }
}
