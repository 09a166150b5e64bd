using System.Text.Json;

namespace Metering.Contracts.Usage;

/// <summary>
/// One JSON value of a usage event as read, before any rule: its kind, and the text of a string or the decimal of a
/// number when they could be read (<see cref="TextValid"/> false: a string that is not valid Unicode; <see cref="NumberValid"/>
/// false: a number no <see cref="decimal"/> holds). <c>default</c> is a property that is absent.
/// </summary>
public readonly record struct JsonFieldValue(JsonValueKind Kind, string? Text = null, bool TextValid = false, decimal Number = 0, bool NumberValid = false)
{
    public static JsonFieldValue Of(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => JsonFields.TryGetText(value, out var text) ? FromText(text) : InvalidString,
        JsonValueKind.Number => value.TryGetDecimal(out var number) ? new(JsonValueKind.Number, Number: number, NumberValid: true) : new(JsonValueKind.Number),
        var kind => new(kind),
    };

    public static JsonFieldValue FromText(string text) => new(JsonValueKind.String, text, TextValid: true);

    public static readonly JsonFieldValue InvalidString = new(JsonValueKind.String);

    /// <summary>Absent or JSON null.</summary>
    public bool IsMissing => Kind is JsonValueKind.Undefined or JsonValueKind.Null;
}

/// <summary>
/// The properties of one usage event object that <see cref="UsageEventJson"/> judges, as read from JSON by a DOM or a
/// streaming reader: of a property written twice, the last (as <see cref="JsonElement.TryGetProperty(string, out JsonElement)"/>
/// finds it); unknown properties are not kept. <see cref="Attributes"/> holds every entry of the attributes object in
/// order, with a null key for a name that is not valid Unicode.
/// </summary>
public sealed class UsageEventFields
{
    public JsonFieldValue Id { get; set; }
    public JsonFieldValue Tenant { get; set; }
    public JsonFieldValue Meter { get; set; }
    public JsonFieldValue Quantity { get; set; }
    public JsonFieldValue Timestamp { get; set; }
    public JsonFieldValue Model { get; set; }
    public JsonFieldValue GpuType { get; set; }
    public JsonFieldValue Service { get; set; }
    public JsonValueKind AttributesKind { get; set; }
    public List<(string? Key, JsonFieldValue Value)> Attributes { get; } = [];

    /// <summary>Sets the property of this name; false for a name that is not one of the judged fields (attributes aside).</summary>
    public bool TrySet(ReadOnlySpan<byte> utf8Name, JsonFieldValue value)
    {
        if (utf8Name.SequenceEqual("id"u8)) Id = value;
        else if (utf8Name.SequenceEqual("tenant"u8)) Tenant = value;
        else if (utf8Name.SequenceEqual("meter"u8)) Meter = value;
        else if (utf8Name.SequenceEqual("quantity"u8)) Quantity = value;
        else if (utf8Name.SequenceEqual("timestamp"u8)) Timestamp = value;
        else if (utf8Name.SequenceEqual("model"u8)) Model = value;
        else if (utf8Name.SequenceEqual("gpu_type"u8)) GpuType = value;
        else if (utf8Name.SequenceEqual("service"u8)) Service = value;
        else return false;
        return true;
    }

    /// <summary>Whether a property of this name is one of the judged fields (attributes aside).</summary>
    public static bool IsField(ReadOnlySpan<byte> utf8Name) =>
        utf8Name.SequenceEqual("id"u8) || utf8Name.SequenceEqual("tenant"u8) || utf8Name.SequenceEqual("meter"u8) || utf8Name.SequenceEqual("quantity"u8)
        || utf8Name.SequenceEqual("timestamp"u8) || utf8Name.SequenceEqual("model"u8) || utf8Name.SequenceEqual("gpu_type"u8) || utf8Name.SequenceEqual("service"u8);

    /// <summary>Every property absent again, to read the next event into.</summary>
    public void Clear()
    {
        Id = Tenant = Meter = Quantity = Timestamp = Model = GpuType = Service = default;
        AttributesKind = JsonValueKind.Undefined;
        Attributes.Clear();
    }

    /// <summary>Read from an object of a DOM whose property names are all valid Unicode.</summary>
    public static UsageEventFields Of(JsonElement element)
    {
        var fields = new UsageEventFields
        {
            Id = Property(element, "id"),
            Tenant = Property(element, "tenant"),
            Meter = Property(element, "meter"),
            Quantity = Property(element, "quantity"),
            Timestamp = Property(element, "timestamp"),
            Model = Property(element, "model"),
            GpuType = Property(element, "gpu_type"),
            Service = Property(element, "service"),
        };
        if (element.TryGetProperty("attributes", out var attributes))
        {
            fields.AttributesKind = attributes.ValueKind;
            if (attributes.ValueKind == JsonValueKind.Object)
                foreach (var p in attributes.EnumerateObject())
                    fields.Attributes.Add((JsonFields.TryGetName(p, out var key) ? key : null, JsonFieldValue.Of(p.Value)));
        }
        return fields;
    }

    private static JsonFieldValue Property(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) ? JsonFieldValue.Of(value) : default;
}
