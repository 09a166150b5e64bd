using Microsoft.AspNetCore.Http.Features;
using Wolverine.Marten;

namespace Metering.Billing.Corrections;

/// <summary>
/// <c>POST /v1/usage/{tenant}/{id}/void</c> (admin, body <c>{"reason"}</c>): appends a compensating
/// <see cref="UsageVoidRecorded"/> event, so the usage stops counting on invoices, and publishes <see cref="UsageVoided"/>
/// so Budgets gives it back (through Wolverine's Marten outbox, in the same transaction). For a finalized month the
/// compensation is a correction line on the next open invoice. 404 for usage Billing never recorded, 409 when already
/// voided. <see cref="TenantMonth.Void"/> decides; the <see cref="BillingWriter"/> reads and writes.
/// </summary>
public static class VoidUsage
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

    private static async Task<IResult> HandleAsync(string tenant, string id, HttpRequest request, ClaimsPrincipal user, BillingWriter writer,
        IMartenOutbox outbox, TimeProvider clock, CancellationToken ct)
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

        // Under the tenant's lock a void serializes with a finalize (it never lands on an invoice that just froze) and with
        // another void of the same usage (which then finds the receipt).
        await using var write = await writer.BeginTenantMonthsAsync([tenant], ct, outbox);
        var recording = await write.RecordingOfAsync(tenant, id, ct);
        var finalized = recording is null ? FinalizedMonths.None : await write.FinalizedFromAsync([(tenant, recording.Batch.Month)], ct);
        var outcome = TenantMonth.Void(new VoidUsageCommand(tenant, id, reason!, user.Identity!.Name!), recording, await write.IsVoidedAsync(tenant, id, ct),
            finalized, clock.GetUtcNow());
        if (outcome is VoidOutcome.Voided voided)
        {
            write.MarkVoided(tenant, id);
            write.Append(voided.Event);
            await write.PublishAsync(voided.Message);
            await write.CommitAsync(ct);
        }
        return outcome switch
        {
            VoidOutcome.Voided done => Results.Ok(done.View),
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
