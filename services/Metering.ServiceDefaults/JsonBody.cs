using System.Text.Json;
using Metering.Contracts.Usage;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;

namespace Metering.ServiceDefaults;

/// <summary>
/// The JSON body of a request, read within the endpoint's size limit (<see cref="RequestLimits.WithBodyLimit"/>), which
/// Kestrel enforces while the body is read, chunked or not. A body that is too large (413), not declared as JSON (415)
/// or not JSON (400) is not read further: it becomes one field error (<c>$</c>) and the status to answer it with. So is
/// a body with a property name that is not valid Unicode (looking up any property of its object could throw). The
/// strings of <see cref="Root"/> are read through <see cref="JsonFields"/>.
/// </summary>
public sealed class JsonBody : IDisposable
{
    private readonly JsonDocument? _document;

    private JsonBody(JsonDocument? document, FieldError? error, int statusCode)
    {
        _document = document;
        Error = error;
        StatusCode = statusCode;
    }

    /// <summary>The document; only when <see cref="Error"/> is null.</summary>
    public JsonElement Root => _document?.RootElement ?? throw new InvalidOperationException($"The body was not read: {Error}");

    /// <summary>Why the body could not be read, or null.</summary>
    public FieldError? Error { get; }

    /// <summary>The status that answers <see cref="Error"/>: 400, 413 or 415.</summary>
    public int StatusCode { get; }

    public static async Task<JsonBody> ReadAsync(HttpRequest request, CancellationToken ct)
    {
        if (!request.HasJsonContentType())
            return CanHaveBody(request) || request.Headers.ContentType.Count > 0
                ? Rejected("must be sent with Content-Type: application/json", StatusCodes.Status415UnsupportedMediaType)
                : Rejected("is required: a JSON object", StatusCodes.Status400BadRequest);
        try
        {
            var document = await JsonDocument.ParseAsync(request.Body, cancellationToken: ct);
            if (JsonFields.FindInvalidName(document.RootElement, "") is not { } unnamed)
                return new JsonBody(document, null, StatusCodes.Status200OK);
            document.Dispose();
            return new JsonBody(null, new FieldError(unnamed, $"holds a property name that {JsonFields.InvalidText}"), StatusCodes.Status400BadRequest);
        }
        catch (JsonException ex)
        {
            return Rejected($"is not valid JSON: {ex.Message}", StatusCodes.Status400BadRequest);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            var limit = request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize;
            return Rejected(limit is null ? "is too large" : $"must be at most {limit} bytes", StatusCodes.Status413PayloadTooLarge);
        }
        catch (BadHttpRequestException ex)
        {
            // A malformed chunked encoding, a body shorter than its Content-Length, a client that stopped sending.
            return Rejected(ex.Message, ex.StatusCode);
        }
    }

    public void Dispose() => _document?.Dispose();

    private static bool CanHaveBody(HttpRequest request) =>
        request.HttpContext.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody ?? request.ContentLength > 0;

    private static JsonBody Rejected(string message, int statusCode) => new(null, new FieldError("$", message), statusCode);
}

/// <summary>How large a request may be, and what a request the framework itself refuses is answered with.</summary>
public static class RequestLimits
{
    /// <summary>The body limit of every endpoint that declares none: enough for any small JSON command.</summary>
    public const long DefaultMaxBodyBytes = 64 * 1024;

    /// <summary>The body limit of this endpoint (routing hands it to Kestrel before the body is read).</summary>
    public static TBuilder WithBodyLimit<TBuilder>(this TBuilder builder, long maxBytes) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new BodySizeLimit(maxBytes));

    /// <summary>
    /// Kestrel's default body limit (30 MB) becomes <see cref="DefaultMaxBodyBytes"/>, and a request the framework refuses
    /// (<see cref="BadHttpRequestException"/>: a body over the limit, a query value that does not bind) is answered
    /// with its own status as problem+json instead of 500.
    /// </summary>
    public static WebApplicationBuilder AddRequestLimits(this WebApplicationBuilder builder)
    {
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = DefaultMaxBodyBytes);
        builder.Services.Configure<ExceptionHandlerOptions>(o => o.StatusCodeSelector = exception =>
            exception is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError);
        return builder;
    }

    private sealed record BodySizeLimit(long? MaxRequestBodySize) : IRequestSizeLimitMetadata;

    /// <summary>The body's type for API descriptions, with no content types, which routing would match requests against.</summary>
    private sealed record JsonBodyShape(Type RequestType, bool IsOptional) : IAcceptsMetadata
    {
        public IReadOnlyList<string> ContentTypes => [];
    }

    /// <summary>
    /// For the OpenAPI document: the endpoint reads a JSON body of this shape with <see cref="JsonBody.ReadAsync"/>, which
    /// answers a body that is not JSON 400, one over the limit 413 and one of another content type 415, each naming <c>$</c>.
    /// Not <c>.Accepts&lt;T&gt;("application/json")</c>: routing would then refuse another content type itself, with a 415
    /// that names no field.
    /// </summary>
    public static RouteHandlerBuilder AcceptsJson<TBody>(this RouteHandlerBuilder builder, bool isOptional = false) where TBody : notnull =>
        builder.WithMetadata(new JsonBodyShape(typeof(TBody), isOptional))
            .ProducesValidationProblem()
            .ProducesValidationProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesValidationProblem(StatusCodes.Status415UnsupportedMediaType);
}
