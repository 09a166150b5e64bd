using Wolverine.Marten;

namespace Metering.Billing.RateCards;

/// <summary>
/// <c>PUT /v1/rate-card</c> (admin): adds a version, which replaces the whole price list from its <c>effective_from</c>;
/// 200 with it, 400 naming each price of the version it follows that it drops, unless <c>"replace":true</c>.
/// <see cref="RateCardRules"/> reads and decides; the <see cref="BillingWriter"/> stores and publishes.
/// </summary>
public static class PutRateCard
{
    /// <summary>Room for <see cref="RateCardRules.MaxPrices"/> prices of the longest model names.</summary>
    public const long MaxBodyBytes = 4 * 1024 * 1024;

    public static void MapPutRateCard(this IEndpointRouteBuilder app) =>
        app.MapAdminPut<RateCardRequest, RateCardVersionView>("/v1/rate-card", HandleAsync, MaxBodyBytes,
            "PutRateCard", "Rate card", "Add a rate-card version, which replaces the price list from its effective_from");

    private static async Task<IResult> HandleAsync(HttpRequest request, ClaimsPrincipal user, BillingWriter writer, IMartenOutbox outbox, TimeProvider clock,
        CancellationToken ct)
    {
        using var body = await JsonBody.ReadAsync(request, ct);
        if (body.Error is { } unread) return Invalid([unread], body.StatusCode);
        var errors = new List<FieldError>();
        if (RateCardRules.Read(body.Root, errors) is not { } version) return Invalid(errors);

        // Under the rate card's lock two admins adding versions at once get consecutive numbers, not the same one (nor judge
        // drops against a stale list); the version and its message to Budgets commit together, so Budgets hears of every
        // version exactly as stored.
        await using var write = await writer.BeginAsync([BillingLock.RateCard], ct, outbox);
        var outcome = RateCardRules.Add(await write.Session.LoadAsync<RateCardHistory>(RateCardHistory.StreamKey, ct), version, user.Identity!.Name!,
            clock.GetUtcNow());
        if (outcome is RateCardOutcome.Added { Event: var stored })
        {
            write.Append(RateCardHistory.StreamKey, stored);
            await write.PublishAsync(new RateCardPublished(stored.ToView()));
            await write.CommitAsync(ct);
        }
        return outcome switch
        {
            RateCardOutcome.Added added => Results.Ok(added.Event.ToView()),
            RateCardOutcome.WouldUnprice refused => Results.ValidationProblem(
                new Dictionary<string, string[]>
                {
                    ["prices"] = [$"drop prices of version {refused.Previous} in effect on {version.EffectiveFrom:yyyy-MM-dd}, which would leave unpriced: " +
                                  string.Join(", ", refused.Dropped.Select(p => $"{p.Meter} {p.Key.Item}")) + "; send \"replace\":true to accept that"],
                },
                statusCode: StatusCodes.Status400BadRequest, title: "The rate card would leave usage unpriced; nothing was added.",
                extensions: new Dictionary<string, object?>
                {
                    ["unpriced"] = refused.Dropped.Select(p => new { meter = p.Meter, model = p.Model, gpu_type = p.GpuType }).ToList(),
                }),
            _ => throw new InvalidOperationException("unknown rate-card outcome"),
        };
    }

    private static IResult Invalid(IEnumerable<FieldError> errors, int statusCode = StatusCodes.Status400BadRequest) =>
        BillingEndpoints.Invalid(errors, "The rate card is invalid; nothing was added.", statusCode);
}
