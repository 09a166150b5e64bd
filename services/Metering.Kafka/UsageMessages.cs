using System.Buffers;
using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using Metering.Contracts.Usage;

namespace Metering.Kafka;

/// <summary>
/// Usage as the usage topic holds it, whoever produces it (Ingest or the emitter): records of usage batch v2
/// (<see cref="UsageBatchEncoding"/>), one tenant's events each, and still, from older producers and tools, records of
/// one usage event v1 as JSON. Every record is keyed by tenant, so a tenant's events stay in one partition and in
/// order; stamped with the instant its events were validated at, because consumers judge an event's age by its record's
/// timestamp and so by the same clock; and carrying the current activity's trace context.
/// </summary>
public static class UsageMessages
{
    private static readonly byte[] BatchEncoding = Encoding.ASCII.GetBytes(UsageBatchEncoding.Name);

    [ThreadStatic] private static ArrayBufferWriter<byte>? _buffer;
    [ThreadStatic] private static Dictionary<string, int>? _strings;

    /// <summary>A record of one usage event v1 (JSON), as producers wrote them before usage batch v2.</summary>
    public static Message<string?, byte[]> Create(UsageEvent usage, DateTimeOffset validatedAt) => new()
    {
        Key = usage.Tenant,
        Value = UsageEventJson.Write(usage),
        Timestamp = new Timestamp(validatedAt),
        Headers = KafkaTraceContext.HeadersOf(Activity.Current),
    };

    /// <summary>
    /// Adds to <paramref name="records"/> the usage batch v2 records of one tenant's <paramref name="events"/>, in order,
    /// as few as <see cref="UsageBatchEncoding.MaxRecordBytes"/> allows, each with the trace context of
    /// <paramref name="activity"/>.
    /// </summary>
    public static void AddBatches(List<Message<string?, byte[]>> records, string tenant, ReadOnlySpan<UsageEvent> events, DateTimeOffset validatedAt,
        Activity? activity)
    {
        while (!events.IsEmpty)
        {
            records.Add(CreateBatch(tenant, events, validatedAt, activity?.Context ?? default, out var taken));
            events = events[taken..];
        }
    }

    /// <summary>
    /// One usage batch v2 record of the first <paramref name="taken"/> of <paramref name="events"/> (all of one tenant),
    /// as many as fit in <see cref="UsageBatchEncoding.MaxRecordBytes"/>, with the trace context <paramref name="trace"/>
    /// (none when default). Encoded in a buffer kept per thread; the only allocation per record is its value.
    /// </summary>
    public static Message<string?, byte[]> CreateBatch(string tenant, ReadOnlySpan<UsageEvent> events, DateTimeOffset validatedAt, ActivityContext trace,
        out int taken)
    {
        var buffer = _buffer ??= new ArrayBufferWriter<byte>(16 * 1024);
        var strings = _strings ??= new Dictionary<string, int>(StringComparer.Ordinal);
        buffer.ResetWrittenCount();
        taken = UsageBatchEncoding.Write(buffer, tenant, events, strings);
        var value = buffer.WrittenSpan.ToArray();
        // A large event leaves no large buffer behind on every thread that wrote one.
        if (buffer.Capacity > 2 * UsageBatchEncoding.MaxRecordBytes) _buffer = null;
        strings.Clear();
        var headers = KafkaTraceContext.HeadersOf(trace);
        headers.Add(UsageBatchEncoding.Header, BatchEncoding);
        return new Message<string?, byte[]> { Key = tenant, Value = value, Timestamp = new Timestamp(validatedAt), Headers = headers };
    }

    /// <summary>Whether a record of the usage topic is a usage batch v2 (by its header or its first bytes), else v1 JSON.</summary>
    public static bool IsBatch(Headers? headers, ReadOnlySpan<byte> value) =>
        UsageBatchEncoding.IsBatch(value)
        || (headers is not null && headers.TryGetLastBytes(UsageBatchEncoding.Header, out var encoding) && encoding.AsSpan().SequenceEqual(BatchEncoding));
}
