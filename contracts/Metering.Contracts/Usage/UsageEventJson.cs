using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Metering.Contracts.Usage;

/// <summary>
/// Reads usage events from JSON field by field, so that a wrong type or format is reported against its field
/// instead of failing the whole document, then applies <see cref="UsageEventRules"/>.
/// </summary>
public static partial class UsageEventJson
{
    /// <summary>Up to 9 fractional digits: clocks that count nanoseconds write them all.</summary>
    [GeneratedRegex(@"^(?<seconds>\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2})(?:\.(?<fraction>\d{1,9}))?(?<offset>[Zz]|[+-]\d{2}:\d{2})\z")]
    private static partial Regex Rfc3339();

    /// <summary>
    /// An RFC 3339 date-time as the instant .NET can hold: digits past the 7th (100 ns ticks) are dropped, never rounded,
    /// so the instant is never later than the one written (and the age and future-skew rules judge what is stored).
    /// </summary>
    public static bool TryParseTimestamp(string text, out DateTimeOffset timestamp)
    {
        timestamp = default;
        var match = Rfc3339().Match(text);
        if (!match.Success) return false;
        var fraction = match.Groups["fraction"];
        var ticks = fraction.Success ? "." + fraction.Value[..Math.Min(fraction.Value.Length, 7)] : "";
        return DateTimeOffset.TryParse(match.Groups["seconds"].Value + ticks + match.Groups["offset"].Value, CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal, out timestamp);
    }

    /// <summary>Reads one event; returns null and appends to <paramref name="errors"/> when it breaks any rule.</summary>
    public static UsageEvent? Read(JsonElement element, DateTimeOffset now, string prefix, ICollection<FieldError> errors)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new(prefix.Length == 0 ? "$" : prefix, "must be a JSON object"));
            return null;
        }

        if (JsonFields.FindInvalidName(element, prefix) is { } unnamed)
        {
            errors.Add(new(unnamed, $"holds a property name that {JsonFields.InvalidText}"));
            return null;
        }

        return Read(UsageEventFields.Of(element), now, prefix, errors);
    }

    /// <summary>
    /// Judges one event's properties as read (from a DOM or a streaming reader); returns null and appends to
    /// <paramref name="errors"/> when it breaks any rule, every field that could be read judged.
    /// </summary>
    public static UsageEvent? Read(UsageEventFields fields, DateTimeOffset now, string prefix, ICollection<FieldError> errors)
    {
        var before = errors.Count;
        var id = RequiredString(fields.Id, "id", prefix, errors);
        var tenant = RequiredString(fields.Tenant, "tenant", prefix, errors);
        var meter = RequiredString(fields.Meter, "meter", prefix, errors);
        var model = OptionalString(fields.Model, "model", prefix, errors);
        var gpuType = OptionalString(fields.GpuType, "gpu_type", prefix, errors);
        var service = OptionalString(fields.Service, "service", prefix, errors);

        decimal quantity = 0;
        var q = fields.Quantity;
        if (q.IsMissing)
            errors.Add(new(F(prefix, "quantity"), "is required"));
        else if (q.Kind != JsonValueKind.Number || !q.NumberValid)
            errors.Add(new(F(prefix, "quantity"), "must be a number between 0 and 1e12"));
        else quantity = q.Number;

        DateTimeOffset timestamp = default;
        var ts = RequiredString(fields.Timestamp, "timestamp", prefix, errors);
        if (ts is not null && !TryParseTimestamp(ts, out timestamp))
        {
            errors.Add(new(F(prefix, "timestamp"), "must be an RFC 3339 date-time such as 2026-11-23T10:00:00Z"));
            ts = null;
        }

        Dictionary<string, string>? attributes = null;
        if (fields.AttributesKind is not (JsonValueKind.Undefined or JsonValueKind.Null))
        {
            if (fields.AttributesKind != JsonValueKind.Object)
                errors.Add(new(F(prefix, "attributes"), "must be an object of string values"));
            else
            {
                attributes = new Dictionary<string, string>(fields.Attributes.Count, StringComparer.Ordinal);
                foreach (var (key, value) in fields.Attributes)
                {
                    if (key is null)
                        errors.Add(new(F(prefix, "attributes"), $"keys {JsonFields.InvalidText}"));
                    else if (value.Kind != JsonValueKind.String)
                        errors.Add(new(F(prefix, $"attributes.{key}"), "value must be a string"));
                    else if (!value.TextValid)
                        errors.Add(new(F(prefix, $"attributes.{key}"), $"value {JsonFields.InvalidText}"));
                    else attributes[key] = value.Text!;
                }
            }
        }

        var e = new UsageEvent(id ?? "", tenant ?? "", meter ?? "", quantity, ts is null ? now : timestamp.ToUniversalTime(),
            model, gpuType, service, attributes);
        if (errors.Count == before)
        {
            UsageEventRules.Validate(e, now, prefix, errors);
            return errors.Count > before ? null : e;
        }

        // Judge every field that could be read, so one response names every broken rule.
        var reported = errors.Skip(before).Select(r => r.Field).ToHashSet(StringComparer.Ordinal);
        var broken = new List<FieldError>();
        UsageEventRules.Validate(e, now, prefix, broken);
        foreach (var error in broken.Where(b => !reported.Contains(b.Field))) errors.Add(error);
        return null;
    }

    /// <summary>Reads one event from a Kafka message payload (UTF-8 JSON).</summary>
    public static UsageEvent? Read(ReadOnlySpan<byte> utf8Json, DateTimeOffset now, ICollection<FieldError> errors)
    {
        try
        {
            var reader = new Utf8JsonReader(utf8Json);
            using var document = JsonDocument.ParseValue(ref reader);
            return Read(document.RootElement, now, "", errors);
        }
        catch (JsonException ex)
        {
            errors.Add(new("$", $"is not valid JSON: {ex.Message}"));
            return null;
        }
    }

    public static byte[] Write(UsageEvent e) => JsonSerializer.SerializeToUtf8Bytes(e, MeteringJson.Options);

    private static string F(string prefix, string field) => JsonFields.Path(prefix, field);

    private static string? RequiredString(JsonFieldValue value, string name, string prefix, ICollection<FieldError> errors)
    {
        if (value.IsMissing)
        {
            errors.Add(new(F(prefix, name), "is required"));
            return null;
        }
        if (value.Kind != JsonValueKind.String)
        {
            errors.Add(new(F(prefix, name), "must be a string"));
            return null;
        }
        return Text(value, name, prefix, errors);
    }

    private static string? OptionalString(JsonFieldValue value, string name, string prefix, ICollection<FieldError> errors)
    {
        if (value.IsMissing) return null;
        if (value.Kind == JsonValueKind.String) return Text(value, name, prefix, errors);
        errors.Add(new(F(prefix, name), "must be a string or null"));
        return null;
    }

    private static string? Text(JsonFieldValue value, string name, string prefix, ICollection<FieldError> errors)
    {
        if (value.TextValid) return value.Text;
        errors.Add(new(F(prefix, name), JsonFields.InvalidText));
        return null;
    }
}
