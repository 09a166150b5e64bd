using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;

namespace Metering.Billing.Invoices;

/// <summary>
/// The optional body of a finalize: <c>{"force":true}</c> freezes a month that has not ended (UTC),
/// <c>{"allow_unpriced":true}</c> one that holds usage no rate-card version prices. No body: neither.
/// </summary>
public sealed record FinalizeRequest(bool Force, bool AllowUnpriced)
{
    public const long MaxBodyBytes = 16 * 1024;

    /// <summary>The request, or null with the body's errors (and the status to answer them with).</summary>
    public static async Task<(FinalizeRequest? Request, int StatusCode)> ReadAsync(HttpRequest request, ICollection<FieldError> errors, CancellationToken ct)
    {
        var canHaveBody = request.HttpContext.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody ?? request.ContentLength > 0;
        if (!canHaveBody && request.Headers.ContentType.Count == 0) return (new(false, false), StatusCodes.Status200OK);

        using var body = await JsonBody.ReadAsync(request, ct);
        if (body.Error is { } unread)
        {
            errors.Add(unread);
            return (null, body.StatusCode);
        }
        if (body.Root.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new("$", "must be a JSON object"));
            return (null, StatusCodes.Status400BadRequest);
        }
        var before = errors.Count;
        var force = Flag(body.Root, "force", errors);
        var allowUnpriced = Flag(body.Root, "allow_unpriced", errors);
        return errors.Count > before ? (null, StatusCodes.Status400BadRequest) : (new(force, allowUnpriced), StatusCodes.Status200OK);
    }

    private static bool Flag(JsonElement root, string name, ICollection<FieldError> errors)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return false;
        if (value.ValueKind is JsonValueKind.True or JsonValueKind.False) return value.GetBoolean();
        errors.Add(new(name, "must be true or false"));
        return false;
    }
}
