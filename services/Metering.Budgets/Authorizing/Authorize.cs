using System.Text.Json;
using Metering.Budgets.Reading;
using Metering.Budgets.Tracking;
using Metering.Contracts.Budgets;
using Metering.Contracts.Usage;
using Metering.ServiceDefaults;

namespace Metering.Budgets.Authorizing;

/// <summary>
/// <c>POST /v1/tenants/{tenant}/authorize</c> (emitter, admin): 200 <c>{"allowed":true}</c> (with a
/// <c>reservation_id</c> when <c>"reserve":true</c>), or 429 with the reason and <c>retry_after_seconds</c>.
/// </summary>
public static class Authorize
{
    public static void MapAuthorize(this IEndpointRouteBuilder app) =>
        app.MapPost("/v1/tenants/{tenant}/authorize", HandleAsync).RequireAuthorization(Policies.Emitter);

    private static async Task<IResult> HandleAsync(string tenant, HttpRequest request, IGrainFactory grains, CancellationToken ct)
    {
        var errors = new List<FieldError>();
        if (!UsageEventRules.IsValidTenant(tenant)) errors.Add(new("tenant", UsageEventRules.TenantRule));
        AuthorizeRequest? body = null;
        try
        {
            using var document = await JsonDocument.ParseAsync(request.Body, cancellationToken: ct);
            body = Read(document.RootElement, errors);
        }
        catch (JsonException ex)
        {
            errors.Add(new("$", $"is not valid JSON: {ex.Message}"));
        }
        if (errors.Count > 0 || body is null) return BudgetProblems.Invalid(errors);

        return await BudgetProblems.OrUnavailable(async () =>
        {
            var answer = await grains.GetGrain<ITenantBudgetGrain>(tenant).Authorize(body);
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
        var meter = root.TryGetProperty("meter", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
        if (meter is null || !Meters.IsKnown(meter)) errors.Add(new("meter", $"must be one of {string.Join(", ", Meters.All)}"));
        decimal quantity = 0;
        if (!root.TryGetProperty("quantity", out var q) || q.ValueKind != JsonValueKind.Number || !q.TryGetDecimal(out quantity) ||
            quantity < 0 || quantity > UsageEventRules.MaxQuantity)
            errors.Add(new("quantity", "must be a number between 0 and 1e12"));
        var model = root.TryGetProperty("model", out var mo) && mo.ValueKind == JsonValueKind.String ? mo.GetString() : null;
        var gpuType = root.TryGetProperty("gpu_type", out var g) && g.ValueKind == JsonValueKind.String ? g.GetString() : null;
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
