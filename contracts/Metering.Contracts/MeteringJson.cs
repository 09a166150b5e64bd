using System.Text.Json;
using System.Text.Json.Serialization;

namespace Metering.Contracts;

/// <summary>The one JSON shape of every Metering message and API body: snake_case, nulls omitted.</summary>
public static class MeteringJson
{
    public static JsonSerializerOptions Options { get; } = CreateReadOnly();

    /// <summary>A new, still mutable instance with the Metering shape, for hosts that take ownership of their options.</summary>
    public static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        Configure(options);
        return options;
    }

    /// <summary>Applies the Metering shape to options owned by a host (e.g. ASP.NET Core's).</summary>
    public static void Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.DictionaryKeyPolicy = null;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
    }

    private static JsonSerializerOptions CreateReadOnly()
    {
        var options = Create();
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
