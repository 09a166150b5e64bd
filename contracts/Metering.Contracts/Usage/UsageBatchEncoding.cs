using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Metering.Contracts.Usage;

/// <summary>
/// Usage batch v2: one tenant's usage events in one Kafka record, compact and exact. The usage topic carries it beside
/// the usage event v1 (one event's JSON per record); v1 JSON stays the contract at the edges (HTTP, dead letters).
/// Layout, little-endian, integers as LEB128 varints unless said otherwise:
/// <code>
/// record  = magic "MUB" 0x02 | tenant: string | base ticks: int64 (8 bytes) | event count | event*
/// event   = flags (bit 0 model, 1 gpu_type, 2 service, 3 attributes) | id: string | meter: ref
///         | quantity: scale|sign (bit 7) byte, low 64 bits, high 32 bits of the decimal's mantissa
///         | timestamp: zig-zag (UTC ticks − base ticks) | [model: ref] [gpu_type: ref] [service: ref]
///         | [attribute count, (key: ref, value: ref)*]
/// string  = byte length, UTF-8
/// ref     = 0 then a string (defined here, numbered from 0 in order of definition) | n + 1 (the string numbered n)
/// </code>
/// Decimals keep every bit (scale included: 1.50 stays 1.50); timestamps keep the instant to the tick, as UTC (the
/// offset a v1 event was written with is not kept). Pure code over spans and <see cref="IBufferWriter{T}"/>.
/// </summary>
public static class UsageBatchEncoding
{
    /// <summary>The Kafka header naming a record's encoding; a v1 record has none.</summary>
    public const string Header = "metering-encoding";

    /// <summary>The value of <see cref="Header"/> on a usage batch v2 record.</summary>
    public const string Name = "usage-batch.v2";

    public const byte Version = 2;

    /// <summary>
    /// Records stay at about this size or less (the events' upper bound is counted before each is written): well under
    /// Kafka's default 1 MB message limit, so a 4 MB request is split over several records.
    /// </summary>
    public const int MaxRecordBytes = 128 * 1024;

    /// <summary>The first bytes of every v2 record; a v1 record is JSON and starts with <c>{</c> or white space.</summary>
    public static ReadOnlySpan<byte> Magic => [(byte)'M', (byte)'U', (byte)'B', Version];

    private const byte HasModel = 1, HasGpuType = 2, HasService = 4, HasAttributes = 8, KnownFlags = 15;
    private const byte Negative = 0x80;
    private const int HeaderBytes = 4 + 5 + 8 + 5;

    /// <summary>Strict UTF-8: a lone surrogate is refused when writing, invalid bytes when reading; nothing is replaced.</summary>
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static bool IsBatch(ReadOnlySpan<byte> payload) => payload.StartsWith(Magic);

    /// <summary>
    /// Writes a record of <paramref name="tenant"/>'s events from <paramref name="events"/>, as many as fit in
    /// <see cref="MaxRecordBytes"/> (at least one) and returns how many it took; the caller writes the rest into further
    /// records. Every event must be <paramref name="tenant"/>'s (the record holds the tenant once).
    /// </summary>
    /// <exception cref="ArgumentException">An event of another tenant, or text that is not valid Unicode (a lone surrogate).</exception>
    public static int Write(IBufferWriter<byte> output, string tenant, ReadOnlySpan<UsageEvent> events, Dictionary<string, int> strings)
    {
        if (events.IsEmpty) throw new ArgumentException("A usage batch holds at least one event", nameof(events));
        var baseTicks = events[0].Timestamp.UtcTicks;
        var taken = 1;
        var bound = UpperBound(events[0]);
        while (taken < events.Length && bound + UpperBound(events[taken]) <= MaxRecordBytes - HeaderBytes - 3 * tenant.Length)
            bound += UpperBound(events[taken++]);

        var header = output.GetSpan(HeaderBytes + Utf8.GetMaxByteCount(tenant.Length));
        Magic.CopyTo(header);
        var at = 4 + WriteString(header[4..], tenant);
        BinaryPrimitives.WriteInt64LittleEndian(header[at..], baseTicks);
        at += 8;
        at += WriteVarint(header[at..], (ulong)taken);
        output.Advance(at);

        strings.Clear();
        foreach (var e in events[..taken])
        {
            if (!string.Equals(e.Tenant, tenant, StringComparison.Ordinal))
                throw new ArgumentException($"Event {e.Id} is of tenant {e.Tenant}, not {tenant}", nameof(events));
            WriteEvent(output, e, baseTicks, strings);
        }
        return taken;
    }

    /// <summary>At least the bytes <paramref name="e"/> takes: every string as a definition of 3 bytes per character.</summary>
    private static int UpperBound(UsageEvent e)
    {
        static int Text(string? s) => s is null ? 0 : 6 + 3 * s.Length;
        var bound = 1 + Text(e.Id) + Text(e.Meter) + 1 + 10 + 5 + 10 + Text(e.Model) + Text(e.GpuType) + Text(e.Service);
        if (e.Attributes is { } attributes)
        {
            bound += 5;
            foreach (var (key, value) in attributes) bound += Text(key) + Text(value);
        }
        return bound;
    }

    private static void WriteEvent(IBufferWriter<byte> output, UsageEvent e, long baseTicks, Dictionary<string, int> strings)
    {
        var flags = (byte)((e.Model is null ? 0 : HasModel) | (e.GpuType is null ? 0 : HasGpuType) | (e.Service is null ? 0 : HasService)
                           | (e.Attributes is null ? 0 : HasAttributes));
        var span = output.GetSpan(1 + 5 + Utf8.GetMaxByteCount(e.Id.Length));
        span[0] = flags;
        var at = 1 + WriteString(span[1..], e.Id);
        output.Advance(at);
        WriteRef(output, e.Meter, strings);

        Span<int> bits = stackalloc int[4];
        decimal.GetBits(e.Quantity, bits);
        span = output.GetSpan(1 + 10 + 5 + 10);
        span[0] = (byte)(((bits[3] >> 16) & 0xFF) | (bits[3] < 0 ? Negative : 0));
        at = 1 + WriteVarint(span[1..], (ulong)(uint)bits[1] << 32 | (uint)bits[0]);
        at += WriteVarint(span[at..], (uint)bits[2]);
        var delta = e.Timestamp.UtcTicks - baseTicks;
        at += WriteVarint(span[at..], (ulong)((delta << 1) ^ (delta >> 63)));
        output.Advance(at);

        if (e.Model is not null) WriteRef(output, e.Model, strings);
        if (e.GpuType is not null) WriteRef(output, e.GpuType, strings);
        if (e.Service is not null) WriteRef(output, e.Service, strings);
        if (e.Attributes is { } attributes)
        {
            span = output.GetSpan(5);
            output.Advance(WriteVarint(span, (ulong)attributes.Count));
            foreach (var (key, value) in attributes)
            {
                WriteRef(output, key, strings);
                WriteRef(output, value, strings);
            }
        }
    }

    private static void WriteRef(IBufferWriter<byte> output, string text, Dictionary<string, int> strings)
    {
        if (strings.TryGetValue(text, out var number))
        {
            output.Advance(WriteVarint(output.GetSpan(5), (ulong)number + 1));
            return;
        }
        strings[text] = strings.Count;
        var span = output.GetSpan(1 + 5 + Utf8.GetMaxByteCount(text.Length));
        span[0] = 0;
        output.Advance(1 + WriteString(span[1..], text));
    }

    private static int WriteString(Span<byte> span, string text)
    {
        // The length goes first, so the text is written after room for the longest varint of its bound and moved back.
        var max = Utf8.GetMaxByteCount(text.Length);
        var lengthBytes = VarintLength((ulong)max);
        var written = Utf8.GetBytes(text, span[lengthBytes..]);
        var prefix = VarintLength((ulong)written);
        if (prefix != lengthBytes) span.Slice(lengthBytes, written).CopyTo(span[prefix..]);
        WriteVarint(span, (ulong)written);
        return prefix + written;
    }

    private static int VarintLength(ulong value)
    {
        var length = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            length++;
        }
        return length;
    }

    private static int WriteVarint(Span<byte> span, ulong value)
    {
        var at = 0;
        while (value >= 0x80)
        {
            span[at++] = (byte)(value | 0x80);
            value >>= 7;
        }
        span[at++] = (byte)value;
        return at;
    }

    /// <summary>
    /// Reads a v2 record. False, with why, for anything that is not one exactly (wrong magic or version, truncated,
    /// trailing bytes, a reference to an undefined string, invalid UTF-8, an impossible decimal or instant, an attribute
    /// key twice): such a record is set apart whole. Never throws. The events are judged by no rule here: the reader
    /// applies <see cref="UsageEventRules"/> to each.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> payload, [NotNullWhen(true)] out IReadOnlyList<UsageEvent>? events, [NotNullWhen(false)] out string? error)
    {
        events = null;
        var reader = new Reader(payload);
        try
        {
            error = reader.ReadAll(out var read);
            events = read;
            return error is null;
        }
        catch (Exception ex) when (ex is DecoderFallbackException or ArgumentException or OverflowException)
        {
            error = $"is not a valid {Name} record: {ex.Message}";
            return false;
        }
    }

    private ref struct Reader(ReadOnlySpan<byte> payload)
    {
        private ReadOnlySpan<byte> _rest = payload;
        private List<string>? _strings;
        private string? _problem;

        public string? ReadAll(out List<UsageEvent>? events)
        {
            events = null;
            if (_rest.Length < 4 || !_rest.StartsWith(Magic[..3])) return $"is not a {Name} record: it does not start with its magic bytes";
            if (_rest[3] != Version) return $"is not a {Name} record: it is a usage batch of version {_rest[3]}, which this reader does not know";
            _rest = _rest[4..];
            var tenant = ReadString();
            if (tenant is null || _rest.Length < 8) return Problem("its header is truncated");
            var baseTicks = BinaryPrimitives.ReadInt64LittleEndian(_rest);
            _rest = _rest[8..];
            // The smallest event takes 7 bytes: a count past that is a corrupt one, not a reason to allocate.
            if (!TryReadVarint(out var count) || count == 0 || count > (ulong)_rest.Length / 7) return Problem("its event count is missing or impossible");
            _strings = [];
            var read = new List<UsageEvent>((int)count);
            for (var i = 0UL; i < count; i++)
            {
                if (ReadEvent(tenant, baseTicks) is not { } e) return Problem($"event {i} is truncated or corrupt");
                read.Add(e);
            }
            if (!_rest.IsEmpty) return Problem($"{_rest.Length} bytes follow its last event");
            events = read;
            return null;
        }

        private string Problem(string what) => $"is not a valid {Name} record: {_problem ?? what}";

        private UsageEvent? ReadEvent(string tenant, long baseTicks)
        {
            if (_rest.IsEmpty) return null;
            var flags = _rest[0];
            _rest = _rest[1..];
            if ((flags & ~KnownFlags) != 0)
            {
                _problem = $"an event has unknown flags {flags:x2}";
                return null;
            }
            if (ReadString() is not { } id || ReadRef() is not { } meter) return null;
            if (_rest.IsEmpty) return null;
            var sign = _rest[0];
            _rest = _rest[1..];
            var scale = (byte)(sign & ~Negative);
            if (scale > 28)
            {
                _problem = $"a quantity has scale {scale} (at most 28)";
                return null;
            }
            if (!TryReadVarint(out var low) || !TryReadVarint(out var high) || high > uint.MaxValue) return null;
            var quantity = new decimal((int)(uint)low, (int)(uint)(low >> 32), (int)(uint)high, (sign & Negative) != 0, scale);
            if (!TryReadVarint(out var zigzag)) return null;
            var ticks = baseTicks + ((long)(zigzag >> 1) ^ -(long)(zigzag & 1));
            if (ticks < DateTimeOffset.MinValue.UtcTicks || ticks > DateTimeOffset.MaxValue.UtcTicks)
            {
                _problem = "a timestamp is out of range";
                return null;
            }
            string? model = null, gpuType = null, service = null;
            if ((flags & HasModel) != 0 && (model = ReadRef()) is null) return null;
            if ((flags & HasGpuType) != 0 && (gpuType = ReadRef()) is null) return null;
            if ((flags & HasService) != 0 && (service = ReadRef()) is null) return null;
            Dictionary<string, string>? attributes = null;
            if ((flags & HasAttributes) != 0)
            {
                if (!TryReadVarint(out var count) || count > (ulong)_rest.Length / 2) return null;
                attributes = new Dictionary<string, string>((int)count, StringComparer.Ordinal);
                for (var i = 0UL; i < count; i++)
                {
                    if (ReadRef() is not { } key || ReadRef() is not { } value) return null;
                    if (!attributes.TryAdd(key, value))
                    {
                        _problem = "an event holds an attribute key twice";
                        return null;
                    }
                }
            }
            return new UsageEvent(id, tenant, meter, quantity, new DateTimeOffset(ticks, TimeSpan.Zero), model, gpuType, service, attributes);
        }

        private string? ReadRef()
        {
            if (!TryReadVarint(out var reference)) return null;
            if (reference == 0)
            {
                if (ReadString() is not { } defined) return null;
                _strings!.Add(defined);
                return defined;
            }
            if (reference - 1 < (ulong)_strings!.Count) return _strings[(int)(reference - 1)];
            _problem = $"a reference to string {reference - 1}, of {_strings.Count} defined";
            return null;
        }

        private string? ReadString()
        {
            if (!TryReadVarint(out var length) || length > (ulong)_rest.Length) return null;
            var text = Utf8.GetString(_rest[..(int)length]);
            _rest = _rest[(int)length..];
            return text;
        }

        private bool TryReadVarint(out ulong value)
        {
            value = 0;
            for (var shift = 0; shift < 64 && !_rest.IsEmpty; shift += 7)
            {
                var b = _rest[0];
                _rest = _rest[1..];
                if (shift == 63 && b > 1) return false;
                value |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80) return true;
            }
            return false;
        }
    }
}
