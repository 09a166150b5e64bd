using System.Buffers;
using System.Text.Json;

namespace Metering.LoadGenerator;

/// <summary>
/// The body of <c>POST /v1/usage</c> (usage event v1 in <see cref="UsageRequest"/>), written straight into a buffer with
/// <see cref="Utf8JsonWriter"/>: byte for byte what <see cref="JsonSerializer"/> writes with <see cref="MeteringJson.Options"/>
/// (snake_case names in the record's order, nulls left out, decimals and instants as the serializer writes them), without
/// its per-request metadata walk and intermediate arrays. The load generator's sending is most of its cost per event.
/// </summary>
public static class UsageRequestWriter
{
    private static readonly JsonEncodedText Events = JsonEncodedText.Encode("events");
    private static readonly JsonEncodedText Id = JsonEncodedText.Encode("id");
    private static readonly JsonEncodedText Tenant = JsonEncodedText.Encode("tenant");
    private static readonly JsonEncodedText Meter = JsonEncodedText.Encode("meter");
    private static readonly JsonEncodedText Quantity = JsonEncodedText.Encode("quantity");
    private static readonly JsonEncodedText Timestamp = JsonEncodedText.Encode("timestamp");
    private static readonly JsonEncodedText Model = JsonEncodedText.Encode("model");
    private static readonly JsonEncodedText GpuType = JsonEncodedText.Encode("gpu_type");
    private static readonly JsonEncodedText Service = JsonEncodedText.Encode("service");
    private static readonly JsonEncodedText Attributes = JsonEncodedText.Encode("attributes");

    public static void Write(Utf8JsonWriter json, IReadOnlyList<UsageEvent> events)
    {
        json.WriteStartObject();
        json.WriteStartArray(Events);
        foreach (var e in events)
        {
            json.WriteStartObject();
            json.WriteString(Id, e.Id);
            json.WriteString(Tenant, e.Tenant);
            json.WriteString(Meter, e.Meter);
            json.WriteNumber(Quantity, e.Quantity);
            json.WriteString(Timestamp, e.Timestamp);
            if (e.Model is not null) json.WriteString(Model, e.Model);
            if (e.GpuType is not null) json.WriteString(GpuType, e.GpuType);
            if (e.Service is not null) json.WriteString(Service, e.Service);
            if (e.Attributes is not null)
            {
                json.WriteStartObject(Attributes);
                foreach (var (key, value) in e.Attributes) json.WriteString(key, value);
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
        json.Flush();
    }

    /// <summary>The body of <paramref name="events"/> in <paramref name="output"/>, after what it already holds.</summary>
    public static void Write(IBufferWriter<byte> output, IReadOnlyList<UsageEvent> events)
    {
        using var json = new Utf8JsonWriter(output);
        Write(json, events);
    }
}
