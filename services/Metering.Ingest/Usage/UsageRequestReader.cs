using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using Metering.Contracts.Usage;

namespace Metering.Ingest.Usage;

/// <summary>What a usage request's body held: its events, or every broken rule; or why it could not be read at all.</summary>
public sealed record UsageRequestContent(List<UsageEvent> Events, List<FieldError> Errors, FieldError? Unreadable)
{
    public static UsageRequestContent Refused(FieldError error) => new([], [], error);
}

/// <summary>
/// Reads the body of <c>POST /v1/usage</c> in one pass with <see cref="Utf8JsonReader"/>, straight into the events, with
/// the outcome of the DOM it replaces (a <see cref="JsonDocument"/> of the body, checked by
/// <see cref="JsonFields.FindInvalidName"/>, then each event read by <see cref="UsageEventJson.Read(JsonElement, DateTimeOffset, string, ICollection{FieldError})"/>):
/// a body that is not JSON, or that holds a property name that is not valid Unicode anywhere, is refused as a whole
/// with the same message; of a property written twice the last counts; every event is judged by the same
/// <see cref="UsageEventJson.Read(UsageEventFields, DateTimeOffset, string, ICollection{FieldError})"/>.
/// </summary>
public static class UsageRequestReader
{
    private static readonly string[] Prefixes = [.. Enumerable.Range(0, RecordUsage.MaxEvents).Select(i => $"events[{i}]")];

    public static UsageRequestContent Read(ReadOnlySpan<byte> json, DateTimeOffset now)
    {
        json = json[ByteOrderMarkLength(json)..]; // as JsonDocument.ParseAsync skips it
        var reader = new Utf8JsonReader(json); // JsonDocument's defaults: depth 64, no comments, no trailing commas
        var state = new State(now, json.Length);
        try
        {
            reader.Read();
            if (reader.TokenType == JsonTokenType.StartObject) ReadRoot(ref reader, state);
            else Walk(ref reader, "", state);
            reader.Read(); // anything after the root value throws
        }
        catch (JsonException ex)
        {
            return UsageRequestContent.Refused(new("$", $"is not valid JSON: {ex.Message}"));
        }
        if (state.InvalidNameAt is { } unnamed)
            return UsageRequestContent.Refused(new(unnamed, $"holds a property name that {JsonFields.InvalidText}"));
        if (state.EventsKind != JsonTokenType.StartArray)
            return new([], [new("events", "is required and must be an array of usage events")], null);
        if (state.Count is 0 or > RecordUsage.MaxEvents)
            return new([], [new("events", $"must hold 1 to {RecordUsage.MaxEvents} events, not {state.Count}")], null);
        return new(state.Events, state.Errors, null);
    }

    /// <summary>3 when the body starts with a UTF-8 byte order mark, else 0.</summary>
    public static int ByteOrderMarkLength(ReadOnlySpan<byte> json) => json.StartsWith("\uFEFF"u8) ? 3 : 0;

    private sealed class State(DateTimeOffset now, int bytes)
    {
        public DateTimeOffset Now { get; } = now;
        public string? InvalidNameAt { get; private set; }
        public JsonTokenType EventsKind { get; private set; } = JsonTokenType.None;
        public List<UsageEvent> Events { get; private set; } = [];
        public List<FieldError> Errors { get; private set; } = [];
        public int Count { get; set; }
        public UsageEventFields Fields { get; } = new();

        /// <summary>An <c>events</c> property of the root; a later one replaces what an earlier one held.</summary>
        public void BeginEvents(JsonTokenType kind)
        {
            EventsKind = kind;
            Events = new List<UsageEvent>(Math.Clamp(bytes / 160, 1, RecordUsage.MaxEvents));
            Errors = [];
            Count = 0;
        }

        /// <summary>The first object, in document order, that holds a name that is not valid Unicode: it alone is reported.</summary>
        public void NameInvalid(string objectPath) => InvalidNameAt ??= objectPath.Length == 0 ? "$" : objectPath;
    }

    private static void ReadRoot(ref Utf8JsonReader reader, State state)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var bytes = Name(ref reader, "", state);
            reader.Read();
            if (bytes.SequenceEqual("events"u8))
            {
                state.BeginEvents(reader.TokenType);
                if (reader.TokenType == JsonTokenType.StartArray) ReadEvents(ref reader, state);
                else Walk(ref reader, "events", state);
            }
            else if (IsContainer(reader.TokenType)) Walk(ref reader, PathOf("", bytes), state);
        }
    }

    private static void ReadEvents(ref Utf8JsonReader reader, State state)
    {
        var index = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (index < RecordUsage.MaxEvents && state.InvalidNameAt is null) ReadEvent(ref reader, Prefixes[index], state);
            else Walk(ref reader, $"events[{index}]", state);
            index++;
        }
        state.Count = index;
    }

    private static void ReadEvent(ref Utf8JsonReader reader, string prefix, State state)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            state.Errors.Add(new(prefix, "must be a JSON object"));
            Walk(ref reader, prefix, state);
            return;
        }
        var fields = state.Fields;
        fields.Clear();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var bytes = Name(ref reader, prefix, state);
            reader.Read();
            if (bytes.SequenceEqual("attributes"u8))
            {
                fields.AttributesKind = KindOf(reader.TokenType);
                fields.Attributes.Clear();
                if (reader.TokenType == JsonTokenType.StartObject) ReadAttributes(ref reader, JsonFields.Path(prefix, "attributes"), fields, state);
                else if (IsContainer(reader.TokenType)) Walk(ref reader, JsonFields.Path(prefix, "attributes"), state);
            }
            else if (UsageEventFields.IsField(bytes))
            {
                if (IsContainer(reader.TokenType)) Walk(ref reader, PathOf(prefix, bytes), state);
                fields.TrySet(bytes, Value(ref reader));
            }
            else if (IsContainer(reader.TokenType)) Walk(ref reader, PathOf(prefix, bytes), state);
        }
        if (state.InvalidNameAt is not null) return;
        if (UsageEventJson.Read(fields, state.Now, prefix, state.Errors) is { } usage) state.Events.Add(usage);
    }

    private static void ReadAttributes(ref Utf8JsonReader reader, string path, UsageEventFields fields, State state)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string? key;
            try
            {
                key = reader.GetString();
            }
            catch (InvalidOperationException)
            {
                key = null;
                state.NameInvalid(path);
            }
            reader.Read();
            if (IsContainer(reader.TokenType)) Walk(ref reader, JsonFields.Path(path, key ?? ""), state);
            fields.Attributes.Add((key, Value(ref reader)));
        }
    }

    /// <summary>A value as <see cref="JsonFieldValue.Of"/> reads it from a DOM; of an object or array (walked before), the kind.</summary>
    private static JsonFieldValue Value(ref Utf8JsonReader reader)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                try
                {
                    return JsonFieldValue.FromText(reader.GetString()!);
                }
                catch (InvalidOperationException)
                {
                    return JsonFieldValue.InvalidString;
                }
            case JsonTokenType.Number:
                return reader.TryGetDecimal(out var number) ? new(JsonValueKind.Number, Number: number, NumberValid: true) : new(JsonValueKind.Number);
            case JsonTokenType.EndObject:
                return new(JsonValueKind.Object);
            case JsonTokenType.EndArray:
                return new(JsonValueKind.Array);
            default:
                return new(KindOf(reader.TokenType));
        }
    }

    /// <summary>
    /// Reads past the value the reader is at, noting the first object in it that holds a name that is not valid Unicode
    /// (as <see cref="JsonFields.FindInvalidName"/> locates it). Once one is known, the rest is only checked as JSON.
    /// </summary>
    private static void Walk(ref Utf8JsonReader reader, string path, State state)
    {
        if (state.InvalidNameAt is not null)
        {
            reader.Skip();
            return;
        }
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var bytes = Name(ref reader, path, state);
                    reader.Read();
                    if (IsContainer(reader.TokenType)) Walk(ref reader, PathOf(path, bytes), state);
                }
                return;
            case JsonTokenType.StartArray:
                var index = 0;
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (IsContainer(reader.TokenType)) Walk(ref reader, $"{path}[{index}]", state);
                    index++;
                }
                return;
        }
    }

    /// <summary>
    /// The name the reader is at, unescaped, as UTF-8: no string is made of it, most are never needed. Empty, and noted
    /// in <paramref name="state"/>, when it is not valid Unicode.
    /// </summary>
    private static ReadOnlySpan<byte> Name(ref Utf8JsonReader reader, string objectPath, State state)
    {
        if (!reader.ValueIsEscaped)
        {
            if (Utf8.IsValid(reader.ValueSpan)) return reader.ValueSpan;
        }
        else
        {
            try
            {
                return Encoding.UTF8.GetBytes(reader.GetString()!);
            }
            catch (InvalidOperationException)
            {
            }
        }
        state.NameInvalid(objectPath);
        return default;
    }

    /// <summary>The path of a property's value, for a name <see cref="Name"/> read.</summary>
    private static string PathOf(string objectPath, ReadOnlySpan<byte> utf8) => JsonFields.Path(objectPath, Encoding.UTF8.GetString(utf8));

    private static bool IsContainer(JsonTokenType token) => token is JsonTokenType.StartObject or JsonTokenType.StartArray;

    private static JsonValueKind KindOf(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => JsonValueKind.Object,
        JsonTokenType.StartArray => JsonValueKind.Array,
        JsonTokenType.String => JsonValueKind.String,
        JsonTokenType.Number => JsonValueKind.Number,
        JsonTokenType.True => JsonValueKind.True,
        JsonTokenType.False => JsonValueKind.False,
        JsonTokenType.Null => JsonValueKind.Null,
        _ => JsonValueKind.Undefined,
    };
}
