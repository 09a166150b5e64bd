using System.Diagnostics.CodeAnalysis;
using System.Globalization;
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
    /// The path of the first object under <paramref name="element"/> (itself included) that holds a property name that is
    /// not valid Unicode, or null. Looking up any property of such an object can throw, so a reader checks this first.
    /// </summary>
    public static string? FindInvalidName(JsonElement element, string path) => AllNamesValid(element) ? null : Locate(element, path);

    // Paths are built only once a bad name is known to exist: a 4 MB usage body has tens of thousands of properties.
    private static bool AllNamesValid(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => element.EnumerateObject().All(p => TryGetName(p, out _) && AllNamesValid(p.Value)),
        JsonValueKind.Array => element.EnumerateArray().All(AllNamesValid),
        _ => true,
    };

    private static string? Locate(JsonElement element, string path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (!TryGetName(property, out var name)) return path.Length == 0 ? "$" : path;
                    if (Locate(property.Value, Path(path, name)) is { } inner) return inner;
                }
                return null;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                    if (Locate(item, $"{path}[{index++}]") is { } inner) return inner;
                return null;
            default:
                return null;
        }
    }

    /// <summary>A decimal written as a JSON string of digits and at most one point (<c>"0.60"</c>); see <see cref="TryParseDecimal"/>.</summary>
    public static bool TryGetDecimalText(JsonElement value, out decimal result)
    {
        result = 0;
        return TryGetText(value, out var text) && TryParseDecimal(text, out result);
    }

    /// <summary>
    /// Digits and at most one point (<c>"0.60"</c>). Stricter than <c>decimal.TryParse</c>, which ignores trailing U+0000:
    /// "0.60\0" would be read as 0.60 and stored with its NUL.
    /// </summary>
    public static bool TryParseDecimal(string? text, out decimal result)
    {
        result = 0;
        return text is { Length: > 0 } && text.All(c => char.IsAsciiDigit(c) || c == '.')
               && decimal.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out result);
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
