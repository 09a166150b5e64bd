using System.Security.Claims;
using Microsoft.AspNetCore.Http.Features;
using Marten;
using JasperFx;
using Metering.Billing.Invoicing;
using Metering.Billing.TenantMonths;
using Metering.Contracts.Billing;
using Metering.Contracts.Usage;
using Metering.ServiceDefaults;
using Wolverine;

namespace Metering.Billing.Corrections;

/// <summary>
/// <c>POST /v1/usage/{tenant}/{id}/void</c> (admin, body <c>{"reason"}</c>): appends a compensating
/// <see cref="UsageVoidRecorded"/> event, so the usage stops counting on invoices, and publishes <see cref="UsageVoided"/>
/// so Budgets gives it back. For a finalized month the compensation is a correction line on the next open invoice.
/// 404 for usage Billing never recorded, 409 when already voided.
/// </summary>
public static class VoidUsageEndpoint
{
    public const int MaxReasonLength = 500;
    public const long MaxBodyBytes = 16 * 1024;

    public static void MapVoidUsage(this IEndpointRouteBuilder app) =>
        app.MapPost("/v1/usage/{tenant}/{id}/void", HandleAsync).RequireAuthorization(Policies.Admin).WithBodyLimit(MaxBodyBytes)
            .WithName("VoidUsage").WithTags("Invoices").WithSummary("Void a usage event: it stops counting in budgets, invoices and ledgers")
            .AcceptsJson<VoidRequest>()
            .Produces<VoidView>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesRetryLater();

    private static async Task<IResult> HandleAsync(string tenant, string id, HttpRequest request, ClaimsPrincipal user, IMessageBus bus, CancellationToken ct)
    {
        var errors = new List<FieldError>();
        if (!UsageEventRules.IsValidTenant(tenant)) errors.Add(new("tenant", UsageEventRules.TenantRule));
        id = UsageIdOf(request) ?? id;
        if (id.Length is 0 or > UsageEventRules.MaxIdLength) errors.Add(new("id", $"must be 1 to {UsageEventRules.MaxIdLength} characters"));
        else if (!TextRules.IsIdentifier(id)) errors.Add(new("id", TextRules.IdentifierRule));
        using var body = await JsonBody.ReadAsync(request, ct);
        if (body.Error is { } unread) return Invalid([.. errors, unread], body.StatusCode);
        var reason = JsonFields.Text(body.Root, "reason", "reason", errors);
        if (string.IsNullOrWhiteSpace(reason) || reason.Length > MaxReasonLength) errors.Add(new("reason", $"is required: 1 to {MaxReasonLength} characters"));
        else if (!TextRules.IsFreeText(reason)) errors.Add(new("reason", TextRules.FreeTextRule));
        if (errors.Count > 0) return Invalid(errors);

        VoidOutcome outcome;
        try
        {
            outcome = await bus.InvokeAsync<VoidOutcome>(new VoidUsage(tenant, id, reason!, user.Identity!.Name!), ct);
        }
        catch (Exception ex) when (ex is DocumentAlreadyExistsException || ex.InnerException is DocumentAlreadyExistsException)
        {
            outcome = new VoidOutcome.AlreadyVoided(); // two voids of the same usage at once: the other one won
        }
        return outcome switch
        {
            VoidOutcome.Voided voided => Results.Ok(voided.View),
            VoidOutcome.NotFound => Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown usage",
                detail: $"Billing has recorded no usage '{id}' of tenant '{tenant}'."),
            _ => Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Already voided", detail: $"Usage '{id}' of tenant '{tenant}' is already voided."),
        };
    }

    private static IResult Invalid(IEnumerable<FieldError> errors, int statusCode = StatusCodes.Status400BadRequest) =>
        Results.ValidationProblem(FieldError.ByField(errors), statusCode: statusCode, title: "The void request is invalid; nothing was changed.");

    /// <summary>
    /// The usage id as the client encoded it. Ids may hold '/', sent as %2F, which the server leaves encoded in the path
    /// (it would split the segment) while it decodes everything else, so a route value "a%2Fb" could be "a/b" or the
    /// literal "a%2Fb" (sent as a%252Fb). The undecoded request target tells them apart.
    /// </summary>
    private static string? UsageIdOf(HttpRequest request)
    {
        var target = request.HttpContext.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (target is null || !target.StartsWith('/')) return null;
        var path = target.AsSpan(0, target.IndexOf('?') is >= 0 and var query ? query : target.Length);
        Span<Range> segments = stackalloc Range[7];
        // "", "v1", "usage", tenant, id, "void"
        if (path.Split(segments, '/') != 6) return null;
        try
        {
            return Uri.UnescapeDataString(path[segments[4]].ToString());
        }
        catch (UriFormatException)
        {
            return null;
        }
    }
}

public sealed record VoidUsage(string Tenant, string UsageId, string Reason, string By);

public abstract record VoidOutcome
{
    public sealed record Voided(VoidView View) : VoidOutcome;
    public sealed record NotFound : VoidOutcome;
    public sealed record AlreadyVoided : VoidOutcome;
}

public static class VoidUsageHandler
{
    public static async Task<(VoidOutcome, OutgoingMessages)> Handle(VoidUsage command, IDocumentSession session, TimeProvider clock, CancellationToken ct)
    {
        var none = new OutgoingMessages();
        var recorded = await session.Events.QueryRawEventDataOnly<UsageBatchRecorded>()
            .Where(e => e.Tenant == command.Tenant && e.Usage.Any(u => u.Id == command.UsageId))
            .ToListAsync(ct);
        if (recorded.Count == 0) return (new VoidOutcome.NotFound(), none);
        var batch = recorded[0];
        var usage = batch.Usage.First(u => u.Id == command.UsageId);

        var receiptId = $"{command.Tenant}/{command.UsageId}";
        if (await session.LoadAsync<VoidReceipt>(receiptId, ct) is not null) return (new VoidOutcome.AlreadyVoided(), none);

        // The stream that counts the usage, or, once its invoice is finalized, the next open one. Exclusive fetches
        // serialize with a finalize of the same month, so a void never lands on an invoice that just froze.
        var month = batch.Month;
        var stream = await session.Events.FetchForExclusiveWriting<MonthlyUsage>(BillingPeriod.UsageStream(command.Tenant, month), ct);
        var adjustmentFor = batch.AdjustmentFor;
        // Refund what was charged: a late usage was priced as its month was frozen, usage of its own month as that froze.
        var frozenRateCards = batch.FrozenRateCards;
        while (stream.Aggregate?.Finalized is { } finalized)
        {
            // The month the usage belongs to, however many finalized months the correction passes.
            if (adjustmentFor is null)
            {
                adjustmentFor = month;
                frozenRateCards = finalized.RateCardVersions;
            }
            month = BillingPeriod.Next(month);
            stream = await session.Events.FetchForExclusiveWriting<MonthlyUsage>(BillingPeriod.UsageStream(command.Tenant, month), ct);
        }

        var at = clock.GetUtcNow();
        session.Insert(new VoidReceipt(receiptId));
        stream.AppendOne(new UsageVoidRecorded(command.Tenant, month, usage, adjustmentFor, command.Reason, at, command.By,
            adjustmentFor is null ? null : frozenRateCards));
        var view = new VoidView(command.Tenant, command.UsageId, usage.Meter, usage.Quantity, batch.AdjustmentFor ?? batch.Month,
            month == batch.Month ? null : month, command.Reason, at);
        var voided = new UsageVoided(command.Tenant, command.UsageId, usage.Meter, usage.Quantity, DateOnly.FromDateTime(usage.Timestamp.UtcDateTime),
            usage.Model, usage.GpuType, command.Reason, at);
        return (new VoidOutcome.Voided(view), [voided]);
    }
}
