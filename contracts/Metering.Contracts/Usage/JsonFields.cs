using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace Metering.Contracts.Usage;

/// <summary>
/// Strings read from JSON that a client wrote. <see cref="JsonElement.GetString"/> and <see cref="JsonProperty.Name"/>
/// throw <see cref="InvalidOperationException"/> on a lone surrogate escape (<c>"\ud800"</c>) or invalid UTF-8 bytes,
/// which an endpoint would answer with 500 and a consumer would retry for ever: every reader of client JSON goes
/// through here instead, and such text becomes a field error.
/// </summary>
public static class JsonFields
{
    public const string InvalidText = "must be valid Unicode text: no lone surrogate and no invalid UTF-8";

    public static string Path(string prefix, string field) => prefix.Length == 0 ? field : $"{prefix}.{field}";

    /// <summary>The text of a JSON string; false when it is no string or holds text that is not valid Unicode.</summary>
    public static bool TryGetText(JsonElement value, [NotNullWhen(true)] out string? text)
    {
        text = null;
        if (value.ValueKind != JsonValueKind.String) return false;
        try
        {
            text = value.GetString()!;
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>The name of a property; false when it is not valid Unicode.</summary>
    public static bool TryGetName(JsonProperty property, [NotNullWhen(true)] out string? name)
    {
        try
        {
            name = property.Name;
            return true;
        }
        catch (InvalidOperationException)
        {
            name = null;
            return false;
        }
    }

    /// <summary>
    /// The string of property <paramref name="name"/> of <paramref name="obj"/>, or null when it is absent or JSON null
    /// (the caller's rule says whether it may be). Any other JSON value, or a string that is not valid Unicode, adds its
    /// error to <paramref name="field"/> and gives null.
    /// </summary>
    public static string? Text(JsonElement obj, string name, string field, ICollection<FieldError> errors)
    {
        if (obj.ValueKind != JsonValueKind.Object || !obj.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.String) errors.Add(new(field, "must be a string"));
        else if (TryGetText(value, out var text)) return text;
        else errors.Add(new(field, InvalidText));
        return null;
    }
}
