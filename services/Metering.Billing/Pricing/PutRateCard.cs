using System.Security.Claims;
using Marten;
using Metering.Contracts.Billing;
using Metering.Contracts.Usage;
using Metering.ServiceDefaults;
using Wolverine;

namespace Metering.Billing.Pricing;

/// <summary><c>PUT /v1/rate-card</c> (admin): adds a version; 200 with it. <c>GET /v1/rate-card</c> (admin): every version.</summary>
public static class PutRateCard
{
    /// <summary>Room for <see cref="RateCardRules.MaxPrices"/> prices of the longest model names.</summary>
    public const long MaxBodyBytes = 4 * 1024 * 1024;

    public static void MapRateCard(this IEndpointRouteBuilder app)
    {
        app.MapPut("/v1/rate-card", PutAsync).RequireAuthorization(Policies.Admin).WithBodyLimit(MaxBodyBytes);
        app.MapGet("/v1/rate-card", GetAsync).RequireAuthorization(Policies.Admin);
    }

    private static async Task<IResult> PutAsync(HttpRequest request, ClaimsPrincipal user, IMessageBus bus, CancellationToken ct)
    {
        using var body = await JsonBody.ReadAsync(request, ct);
        if (body.Error is { } unread) return Invalid([unread], body.StatusCode);
        var errors = new List<FieldError>();
        if (RateCardRules.Read(body.Root, errors) is not { } version) return Invalid(errors);
        return Results.Ok(await bus.InvokeAsync<RateCardVersionView>(new AddRateCardVersion(version, user.Identity!.Name!), ct));
    }

    private static IResult Invalid(IEnumerable<FieldError> errors, int statusCode = StatusCodes.Status400BadRequest) =>
        Results.ValidationProblem(FieldError.ByField(errors), statusCode: statusCode, title: "The rate card is invalid; nothing was added.");

    private static async Task<IResult> GetAsync(IQuerySession session, CancellationToken ct)
    {
        var history = await session.LoadAsync<RateCardHistory>(RateCardHistory.StreamKey, ct);
        return Results.Ok(new { versions = history?.Versions.Select(v => v.ToView()) ?? [] });
    }
}

/// <summary>Command: add a rate-card version.</summary>
public sealed record AddRateCardVersion(NewRateCardVersion Version, string AddedBy);

/// <summary>
/// Appends the version to the <c>rate-card</c> stream and publishes it to Kafka through Wolverine's outbox: the event
/// and the outgoing message commit in one PostgreSQL transaction, so Budgets hears of every version exactly as stored.
/// </summary>
public static class AddRateCardVersionHandler
{
    public static async Task<(RateCardVersionView, RateCardPublished)> Handle(AddRateCardVersion command, IDocumentSession session, TimeProvider clock, CancellationToken ct)
    {
        // Exclusive: two admins adding versions at once get consecutive numbers, not the same one.
        var stream = await session.Events.FetchForExclusiveWriting<RateCardHistory>(RateCardHistory.StreamKey, ct);
        var number = (stream.Aggregate?.Versions.Count ?? 0) + 1;
        var added = new RateCardVersionAdded(number, command.Version.Currency, command.Version.EffectiveFrom, command.Version.Prices, clock.GetUtcNow(), command.AddedBy);
        stream.AppendOne(added);
        var view = added.ToView();
        return (view, new RateCardPublished(view));
    }
}
