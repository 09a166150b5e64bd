using System.Globalization;
using System.Security.Claims;
using Marten;
using Metering.Billing.Chargeback.Teams;
using Metering.Billing.Corrections;
using Metering.Billing.Recording;
using Metering.Contracts.Usage;
using Metering.ServiceDefaults;
using Microsoft.AspNetCore.Mvc;

namespace Metering.Billing.Invoicing;

/// <summary>
/// <c>GET /v1/invoices/{tenant}/{period}/usage?meter=&amp;model=&amp;gpu_type=&amp;offset=&amp;limit=</c> (admin, viewer of its team): the usage events
/// behind an invoice line, in the order they were recorded, with voids as negative entries — every line can be
/// explained down to the events it sums. Paged: at most <c>limit</c> (1–10,000, default 1,000) from <c>offset</c>.
/// </summary>
public static class GetInvoiceUsage
{
    public sealed record UsageEntry(string Id, string Meter, string? Model, string? GpuType, decimal Quantity, DateTimeOffset Timestamp, string? Service,
        string? AdjustmentFor, string? VoidReason);

    public static void MapGetInvoiceUsage(this IEndpointRouteBuilder app) =>
        app.MapGet("/v1/invoices/{tenant}/{period}/usage", HandleAsync).RequireAuthorization(Policies.Reader);

    private static async Task<IResult> HandleAsync(string tenant, string period, string? meter, string? model, string? gpu_type,
        [FromQuery(Name = "offset")] string? offsetText, [FromQuery(Name = "limit")] string? limitText,
        ClaimsPrincipal user, IQuerySession session, CancellationToken ct)
    {
        var errors = InvoiceRoute.Errors(tenant, period);
        if (meter is not null && !Meters.IsKnown(meter)) errors["meter"] = [$"must be one of {string.Join(", ", Meters.All)}"];
        var offset = WholeNumber(offsetText, 0, int.MaxValue, "offset", "must be a whole number, 0 or more", errors);
        var limit = WholeNumber(limitText, 1, 10_000, "limit", "must be a whole number from 1 to 10000", errors);
        if (errors.Count > 0) return Results.ValidationProblem(errors);
        if (!await TenantAccess.MayReadAsync(user, tenant, period, session, ct)) return BearerTokenHandler.Forbidden();

        var events = await session.Events.FetchStreamAsync(BillingPeriod.UsageStream(tenant, period), token: ct);
        if (events.Count == 0)
            return InvoiceRoute.NoInvoice(tenant, period);

        var entries = events.SelectMany(e => e.Data switch
            {
                UsageBatchRecorded batch => batch.Usage.Select(u => Entry(u, u.Quantity, batch.AdjustmentFor, null)),
                UsageVoidRecorded voided => [Entry(voided.Usage, -voided.Usage.Quantity, voided.AdjustmentFor, voided.Reason)],
                _ => [],
            })
            .Where(u => (meter is null || u.Meter == meter) && (model is null || u.Model == model) && (gpu_type is null || u.GpuType == gpu_type));
        var page = entries.Skip(offset ?? 0).Take(limit ?? 1000).ToList();
        return Results.Ok(new { tenant, period, offset = offset ?? 0, usage = page });
    }

    /// <summary>Query values are read as text: one that is no whole number ("abc", "1.5") is a field error, not a binding failure.</summary>
    private static int? WholeNumber(string? text, int min, int max, string field, string rule, Dictionary<string, string[]> errors)
    {
        if (text is null) return null;
        // Digits only: int.TryParse ignores trailing U+0000.
        if (text.All(char.IsAsciiDigit) && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
            return value;
        errors[field] = [rule];
        return null;
    }

    private static UsageEntry Entry(RecordedUsage u, decimal quantity, string? adjustmentFor, string? voidReason)
    {
        var (model, gpuType) = Meters.ItemOf(u.Meter, u.Model, u.GpuType);
        return new(u.Id, u.Meter, model, gpuType, quantity, u.Timestamp, u.Service, adjustmentFor, voidReason);
    }
}
