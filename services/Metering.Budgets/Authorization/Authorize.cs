using System.Text.Json;

namespace Metering.Budgets.Authorization;

/// <summary>
/// <c>POST /v1/tenants/{tenant}/authorize</c> (emitter, admin): 200 <c>{"allowed":true}</c> (with a
/// <c>reservation_id</c> when <c>"reserve":true</c>), or 429 with the reason and <c>retry_after_seconds</c>.
/// </summary>
public static class Authorize
{
    public const long MaxBodyBytes = 16 * 1024;

    public static void MapAuthorize(this IEndpointRouteBuilder app) =>
        app.MapPost("/v1/tenants/{tenant}/authorize", HandleAsync).RequireAuthorization(Policies.Emitter).WithBodyLimit(MaxBodyBytes)
            .WithName("Authorize").WithTags("Budgets").WithSummary("May the tenant use this quantity now? Optionally hold it (reserve)")
            .AcceptsJson<AuthorizeRequest>()
            .Produces<AuthorizeResponse>()
            .Produces<AuthorizeResponse>(StatusCodes.Status429TooManyRequests)
            .ProducesRetryLater();

    private static async Task<IResult> HandleAsync(string tenant, HttpRequest request, TenantBudgetGrains grains, CancellationToken ct)
    {
        var errors = new List<FieldError>();
        if (!UsageEventRules.IsValidTenant(tenant)) errors.Add(new("tenant", UsageEventRules.TenantRule));
        using var json = await JsonBody.ReadAsync(request, ct);
        if (json.Error is { } unread) return BudgetProblems.Invalid([.. errors, unread], json.StatusCode);
        var body = Read(json.Root, errors);
        if (errors.Count > 0 || body is null) return BudgetProblems.Invalid(errors);

        return await BudgetProblems.OrUnavailable(async () =>
        {
            var answer = await grains.Of(tenant).Authorize(body);
            return answer.Allowed ? Results.Ok(answer) : Results.Json(answer, statusCode: StatusCodes.Status429TooManyRequests);
        });
    }

    internal static AuthorizeRequest? Read(JsonElement root, ICollection<FieldError> errors)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new("$", "must be a JSON object"));
            return null;
        }
        var before = errors.Count;
        var meter = JsonFields.Text(root, "meter", "meter", errors);
        if (meter is null || !Meters.IsKnown(meter)) errors.Add(new("meter", $"must be one of {string.Join(", ", Meters.All)}"));
        decimal quantity = 0;
        if (!root.TryGetProperty("quantity", out var q) || q.ValueKind != JsonValueKind.Number || !q.TryGetDecimal(out quantity) ||
            quantity < 0 || quantity > UsageEventRules.MaxQuantity)
            errors.Add(new("quantity", "must be a number between 0 and 1e12"));
        var unread = errors.Count;
        var model = JsonFields.Text(root, "model", "model", errors);
        var gpuType = JsonFields.Text(root, "gpu_type", "gpu_type", errors);
        // What usage of the meter must name, so that a cost_usd limit prices what the request would cost.
        if (errors.Count == unread) UsageEventRules.ValidateItem(meter, model, gpuType, "", errors);
        var reserve = false;
        if (root.TryGetProperty("reserve", out var r) && r.ValueKind != JsonValueKind.Null)
        {
            if (r.ValueKind is JsonValueKind.True or JsonValueKind.False) reserve = r.GetBoolean();
            else errors.Add(new("reserve", "must be true or false"));
        }
        // A held zero would cost a slot of the tenant's open reservations (each checked on every authorize) and hold nothing.
        if (reserve && quantity == 0 && errors.All(e => e.Field != "quantity"))
            errors.Add(new("quantity", "must be greater than 0 to reserve"));
        return errors.Count > before ? null : new AuthorizeRequest(meter!, quantity, model, gpuType, reserve);
    }
}
