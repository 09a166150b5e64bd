using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.Routing;
using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace Metering.ServiceDefaults;

/// <summary>
/// The service's OpenAPI 3.1 document at <see cref="DocumentPath"/>, generated from what each endpoint declares
/// (<c>.AcceptsJson&lt;T&gt;()</c>, <c>.Produces&lt;T&gt;()</c>, <c>.ProducesProblem()</c>), and a browsable reference of it at
/// <see cref="DocsPath"/>. Both are public: the document describes the API, it holds no data. Health checks and the
/// management port are no API endpoints and stay out of it.
/// </summary>
public static class ApiReference
{
    public const string DocumentName = "v1";
    public const string DocumentPath = "/openapi/v1.json";
    public const string DocsPath = "/docs";
    private const string DocumentPattern = "/openapi/{documentName}.json";
    /// <summary>The bearer scheme's name in <c>components.securitySchemes</c>.</summary>
    public const string SecuritySchemeName = BearerTokenHandler.SchemeName;

    internal static void AddApiReference(this WebApplicationBuilder builder, string serviceName) =>
        builder.Services.AddOpenApi(DocumentName, options =>
        {
            options.OpenApiVersion = OpenApiSpecVersion.OpenApi3_1;
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = serviceName,
                    Version = DocumentName,
                    Description = $"The HTTP API of {serviceName}. Send 'Authorization: Bearer <token>'; errors are application/problem+json (RFC 9457).",
                };
                // The document is the same wherever it is read from (the committed copy is compared with it); clients
                // call the origin they read it from.
                document.Servers = [];
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes = new Dictionary<string, IOpenApiSecurityScheme>
                {
                    [SecuritySchemeName] = new OpenApiSecurityScheme
                    {
                        Type = SecuritySchemeType.Http,
                        Scheme = "bearer",
                        Description = "A static token with a role: admin, emitter, or viewer scoped to one team.",
                    },
                };
                return Task.CompletedTask;
            });
            options.AddOperationTransformer(AddAuthorizationAsync);
            options.AddOperationTransformer((operation, context, _) =>
            {
                AddRetryAfterHeaders(operation);
                AddTextResponses(operation, context.Description.ActionDescriptor.EndpointMetadata.OfType<TextResponse>());
                AddHandReadParameters(operation, context.Description.ActionDescriptor.EndpointMetadata.OfType<HandReadParameter>());
                return Task.CompletedTask;
            });
            options.AddSchemaTransformer((schema, context, _) =>
            {
                WireSchemas.Fix(schema, context.JsonTypeInfo);
                return Task.CompletedTask;
            });
        });

    /// <summary>
    /// For the OpenAPI document: the endpoint also answers <paramref name="statusCode"/> with text of
    /// <paramref name="contentType"/> (e.g. a CSV export), beside the JSON its <c>.Produces&lt;T&gt;()</c> declares for that status.
    /// </summary>
    public static RouteHandlerBuilder ProducesText(this RouteHandlerBuilder builder, int statusCode, string contentType) =>
        builder.WithMetadata(new TextResponse(statusCode, contentType));

    private sealed record TextResponse(int StatusCode, string ContentType);

    /// <summary>For the OpenAPI document: an optional query parameter the handler reads from the request itself, not by binding.</summary>
    public static RouteHandlerBuilder WithQueryParameter(this RouteHandlerBuilder builder, string name, string description) =>
        builder.WithMetadata(new HandReadParameter(name, ParameterLocation.Query, description));

    /// <summary>For the OpenAPI document: an optional header the handler reads from the request itself.</summary>
    public static RouteHandlerBuilder WithHeaderParameter(this RouteHandlerBuilder builder, string name, string description) =>
        builder.WithMetadata(new HandReadParameter(name, ParameterLocation.Header, description));

    private sealed record HandReadParameter(string Name, ParameterLocation In, string Description);

    internal static void MapApiReference(this WebApplication app)
    {
        app.MapOpenApi(DocumentPattern);
        app.MapScalarApiReference(DocsPath, options => options
            .WithTitle(app.Environment.ApplicationName)
            .WithOpenApiRoutePattern(DocumentPattern)
            .AddDocument(DocumentName));
    }

    /// <summary>
    /// An endpoint that requires authorization needs the bearer token, answers 401 without one, and 403 when its policy
    /// names roles the token does not have. Read from the endpoint's own authorization metadata, so no endpoint can
    /// require a token the document does not show.
    /// </summary>
    private static async Task AddAuthorizationAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken ct)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        var authorize = metadata.OfType<IAuthorizeData>().ToList();
        if (authorize.Count == 0 || metadata.OfType<IAllowAnonymous>().Any()) return;

        operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(SecuritySchemeName, context.Document)] = [] }];
        operation.Responses ??= new OpenApiResponses();
        var problem = await ProblemSchemaAsync(context, ct);
        operation.Responses.TryAdd("401", Problem("No valid bearer token was sent.", problem));
        if (authorize.Any(a => a.Policy is not null || a.Roles is not null))
            operation.Responses.TryAdd("403", Problem("The token's role (or a viewer's team) may not do this.", problem));
    }

    private static async Task<IOpenApiSchema> ProblemSchemaAsync(OpenApiOperationTransformerContext context, CancellationToken ct)
    {
        const string id = nameof(ProblemDetails);
        if (context.Document is not { } document) return await context.GetOrCreateSchemaAsync(typeof(ProblemDetails), null, ct);
        if (document.Components?.Schemas?.ContainsKey(id) != true)
            document.AddComponent(id, await context.GetOrCreateSchemaAsync(typeof(ProblemDetails), null, ct));
        return new OpenApiSchemaReference(id, document);
    }

    private static OpenApiResponse Problem(string description, IOpenApiSchema schema) => new()
    {
        Description = description,
        Content = new Dictionary<string, OpenApiMediaType> { ["application/problem+json"] = new() { Schema = schema } },
    };

    private static void AddTextResponses(OpenApiOperation operation, IEnumerable<TextResponse> texts)
    {
        foreach (var text in texts)
        {
            var status = text.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture);
            operation.Responses ??= new OpenApiResponses();
            if (!operation.Responses.TryGetValue(status, out var response))
                operation.Responses[status] = response = new OpenApiResponse { Description = "OK" };
            if (response is not OpenApiResponse concrete) continue;
            concrete.Content ??= new Dictionary<string, OpenApiMediaType>();
            concrete.Content[text.ContentType] = new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.String } };
        }
    }

    private static void AddHandReadParameters(OpenApiOperation operation, IEnumerable<HandReadParameter> parameters)
    {
        foreach (var parameter in parameters)
        {
            operation.Parameters ??= [];
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = parameter.Name,
                In = parameter.In,
                Description = parameter.Description,
                Schema = new OpenApiSchema { Type = JsonSchemaType.String },
            });
        }
    }

    /// <summary>Every 503 of this API carries <c>Retry-After</c> (seconds): <see cref="RetryLater"/> and the database-outage handler send it.</summary>
    private static void AddRetryAfterHeaders(OpenApiOperation operation)
    {
        if (operation.Responses?.TryGetValue("503", out var response) != true || response is not OpenApiResponse unavailable) return;
        unavailable.Headers ??= new Dictionary<string, IOpenApiHeader>();
        unavailable.Headers.TryAdd("Retry-After", new OpenApiHeader
        {
            Description = "Seconds to wait before retrying.",
            Required = true,
            Schema = new OpenApiSchema { Type = JsonSchemaType.Integer },
        });
    }
}

/// <summary>
/// Schemas as the JSON on the wire is. Numbers: Metering writes decimals as JSON numbers, exactly (format
/// <c>decimal</c>, not <c>double</c>); money is a string in the contract types already (<c>"12.34"</c>), so the schema says
/// string where the JSON has one. Required: a nullable property is omitted when null
/// (<see cref="JsonIgnoreCondition.WhenWritingNull"/>, Metering's default), so it is not required unless it is always written.
/// </summary>
internal static class WireSchemas
{
    public static void Fix(OpenApiSchema schema, JsonTypeInfo type)
    {
        FixNumber(schema, type.Type);
        if (schema.Required is not { Count: > 0 } required || type.Kind != JsonTypeInfoKind.Object) return;
        if (type.Options.DefaultIgnoreCondition != JsonIgnoreCondition.WhenWritingNull) return;
        foreach (var property in type.Properties)
            if (IsNullable(property) && !IsAlwaysWritten(property))
                required.Remove(property.Name);
    }

    /// <summary>The generator writes decimals as <c>double</c>; they are exact on the wire (e.g. quantities up to 1e12 with decimals).</summary>
    private static void FixNumber(OpenApiSchema schema, Type type)
    {
        if ((Nullable.GetUnderlyingType(type) ?? type) == typeof(decimal) && schema.Type?.HasFlag(JsonSchemaType.Number) == true)
            schema.Format = "decimal";
    }

    private static bool IsNullable(JsonPropertyInfo property) =>
        Nullable.GetUnderlyingType(property.PropertyType) is not null || (!property.PropertyType.IsValueType && property.IsGetNullable);

    private static bool IsAlwaysWritten(JsonPropertyInfo property) =>
        property.AttributeProvider?.GetCustomAttributes(typeof(JsonIgnoreAttribute), inherit: true)
            .OfType<JsonIgnoreAttribute>().Any(a => a.Condition == JsonIgnoreCondition.Never) == true;
}
