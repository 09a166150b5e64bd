using System.Net;
using System.Text.Json;

namespace Metering.Client;

/// <summary>
/// A Metering service refused a request: its status, and what its <c>application/problem+json</c> answer (RFC 9457) said —
/// the title, the detail and, for invalid input, every field's errors (<c>errors["limits[0].period"]</c>).
/// <see cref="Problem"/> keeps the whole document for members a refusal adds (finalize's <c>unpriced</c> lines).
/// </summary>
public sealed class MeteringApiException : Exception
{
    private static readonly IReadOnlyDictionary<string, string[]> NoErrors = new Dictionary<string, string[]>();

    public MeteringApiException(HttpStatusCode statusCode, string title, string? detail, IReadOnlyDictionary<string, string[]>? errors = null,
        JsonElement? problem = null, TimeSpan? retryAfter = null)
        : base(Describe(statusCode, title, detail, errors ?? NoErrors))
    {
        StatusCode = statusCode;
        Title = title;
        Detail = detail;
        Errors = errors ?? NoErrors;
        Problem = problem;
        RetryAfter = retryAfter;
    }

    public HttpStatusCode StatusCode { get; }
    public string Title { get; }
    public string? Detail { get; }
    /// <summary>Every invalid field's messages, by the field's path in the request (empty for refusals that are not about input).</summary>
    public IReadOnlyDictionary<string, string[]> Errors { get; }
    /// <summary>The problem document as answered; null when the answer was not problem+json (e.g. a proxy's 502).</summary>
    public JsonElement? Problem { get; }
    /// <summary>A 503's <c>Retry-After</c>: when the service expects to answer again.</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>Reads a refusal; the body is read only when it is problem+json, so no other answer's text reaches a message or a log.</summary>
    public static async Task<MeteringApiException> ReadAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var retryAfter = response.Headers.RetryAfter?.Delta;
        var title = response.ReasonPhrase ?? response.StatusCode.ToString();
        if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
            return new MeteringApiException(response.StatusCode, title, null, retryAfter: retryAfter);

        JsonElement problem;
        try
        {
            using var document = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(ct), cancellationToken: ct);
            problem = document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return new MeteringApiException(response.StatusCode, title, "the problem+json answer was not JSON", retryAfter: retryAfter);
        }
        if (problem.ValueKind != JsonValueKind.Object) return new MeteringApiException(response.StatusCode, title, null, problem: problem, retryAfter: retryAfter);
        return new MeteringApiException(response.StatusCode, Text(problem, "title") ?? title, Text(problem, "detail"), ErrorsOf(problem), problem, retryAfter);
    }

    private static string? Text(JsonElement problem, string name) =>
        problem.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static Dictionary<string, string[]> ErrorsOf(JsonElement problem)
    {
        var errors = new Dictionary<string, string[]>();
        if (!problem.TryGetProperty("errors", out var members) || members.ValueKind != JsonValueKind.Object) return errors;
        foreach (var field in members.EnumerateObject())
            errors[field.Name] = field.Value.ValueKind switch
            {
                JsonValueKind.Array => [.. field.Value.EnumerateArray().Select(m => m.ValueKind == JsonValueKind.String ? m.GetString()! : m.GetRawText())],
                JsonValueKind.String => [field.Value.GetString()!],
                _ => [field.Value.GetRawText()],
            };
        return errors;
    }

    private static string Describe(HttpStatusCode status, string title, string? detail, IReadOnlyDictionary<string, string[]> errors)
    {
        var text = $"{(int)status} {title}";
        if (detail is not null) text += $": {detail}";
        if (errors.Count > 0) text += $" ({string.Join("; ", errors.Select(e => $"{e.Key} {string.Join(", ", e.Value)}"))})";
        return text;
    }
}
