using System.Buffers;
using System.Text;
using Confluent.Kafka;
using Metering.Kafka;

namespace Metering.UnitTests;

/// <summary>Usage batch v2: what is written is read back exactly, and no bytes make the reader throw.</summary>
public class UsageBatchEncodingTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 10, 0, 0, TimeSpan.Zero);

    private static UsageEvent[] Varied() =>
    [
        new("u-0", "acme", Meters.OutputTokens, 1234, Now, Model: "llama-4-70b", Service: "chat-api",
            Attributes: new Dictionary<string, string> { ["feature"] = "summarise", ["région"] = "eu-ouest 🇪🇺\ttab" }),
        new("u-1", "acme", Meters.GpuSeconds, 1.500000m, Now.AddTicks(-123_456_789), GpuType: "h100"),
        new("u-2", "acme", Meters.InputTokens, 1_000_000_000_000m, Now.AddDays(-61), Model: "llama-4-70b", Attributes: new Dictionary<string, string>()),
        new("u-3", "acme", Meters.GpuSeconds, 0.000001m, Now.AddMinutes(4).AddTicks(7), GpuType: "b200", Service: "chat-api"),
        new("ü/€-4", "acme", Meters.CachedInputTokens, 0m, Now, Model: "a/b@c+d:e.f"),
        // Nothing here judges the rules: a negative, a huge and a many-digit quantity are kept as they are, for the reader to judge.
        new("u-5", "acme", "not-a-meter", -5.25m, DateTimeOffset.MinValue, Model: ""),
        new("u-6", "acme", Meters.InputTokens, decimal.MaxValue, DateTimeOffset.MaxValue),
        new("u-7", "acme", Meters.GpuSeconds, 0.1234567890123456789012345678m, Now, GpuType: "h100"),
    ];

    private static byte[] Encode(string tenant, UsageEvent[] events, out int taken)
    {
        var buffer = new ArrayBufferWriter<byte>();
        taken = UsageBatchEncoding.Write(buffer, tenant, events, new Dictionary<string, int>());
        return buffer.WrittenSpan.ToArray();
    }

    private static byte[] Encode(UsageEvent[] events)
    {
        var bytes = Encode(events[0].Tenant, events, out var taken);
        Assert.Equal(events.Length, taken);
        return bytes;
    }

    private static IReadOnlyList<UsageEvent> Decode(byte[] bytes)
    {
        Assert.True(UsageBatchEncoding.TryRead(bytes, out var events, out var error), error);
        return events;
    }

    /// <summary>Every field, compared as its v1 JSON and by the quantity's own bits (JSON would not show 1.5 against 1.500000).</summary>
    private static void AssertSame(IReadOnlyList<UsageEvent> expected, IReadOnlyList<UsageEvent> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(Convert.ToHexString(UsageEventJson.Write(expected[i] with { Timestamp = expected[i].Timestamp.ToUniversalTime() })),
                Convert.ToHexString(UsageEventJson.Write(actual[i])));
            Assert.Equal(decimal.GetBits(expected[i].Quantity), decimal.GetBits(actual[i].Quantity));
            Assert.Equal(expected[i].Timestamp.UtcTicks, actual[i].Timestamp.UtcTicks);
            Assert.Equal(TimeSpan.Zero, actual[i].Timestamp.Offset);
            Assert.Equal(expected[i].Attributes is null, actual[i].Attributes is null);
        }
    }

    [Fact]
    public void Every_field_is_read_back_exactly_decimals_to_their_bits_and_instants_to_the_tick()
    {
        var events = Varied();
        var bytes = Encode(events);

        Assert.True(UsageBatchEncoding.IsBatch(bytes));
        AssertSame(events, Decode(bytes));
    }

    [Fact]
    public void An_instant_written_with_an_offset_is_read_back_as_the_same_instant_in_UTC()
    {
        var inParis = new DateTimeOffset(2026, 11, 23, 11, 0, 0, TimeSpan.FromHours(1));
        var read = Decode(Encode([new UsageEvent("u", "acme", Meters.InputTokens, 1, inParis, Model: "m")])).Single();
        Assert.Equal(new DateTimeOffset(2026, 11, 23, 10, 0, 0, TimeSpan.Zero), read.Timestamp);
    }

    [Fact]
    public void Two_hundred_events_of_one_request_take_a_fraction_of_their_json()
    {
        var events = Enumerable.Range(0, 200).Select(i => new UsageEvent($"req-7f3a9c/{i}", "acme", i % 2 == 0 ? Meters.InputTokens : Meters.OutputTokens,
            100 + i, Now.AddMilliseconds(-i), Model: "llama-4-70b", Service: "chat-api", Attributes: new Dictionary<string, string> { ["feature"] = "summarise" })).ToArray();
        var bytes = Encode(events);

        AssertSame(events, Decode(bytes));
        var json = events.Sum(e => UsageEventJson.Write(e).Length);
        Assert.True(bytes.Length * 4 < json, $"{bytes.Length} bytes for {json} bytes of JSON");
    }

    [Fact]
    public void A_tenant_s_events_beyond_the_size_bound_are_split_over_several_records_in_order()
    {
        // 1000 events of 32 attributes of 256 characters (each ~25 KB): about 25 MB, which no single record may hold.
        var attributes = Enumerable.Range(0, 32).ToDictionary(k => $"key-{k:00}", k => new string((char)('a' + k % 26), 256));
        var events = Enumerable.Range(0, 1000)
            .Select(i => new UsageEvent($"big-{i}", "acme", Meters.InputTokens, i, Now, Model: "m", Attributes: new Dictionary<string, string>(attributes)))
            .ToArray();
        var records = new List<Message<string?, byte[]>>();
        UsageMessages.AddBatches(records, "acme", events, Now, activity: null);

        Assert.True(records.Count > 100, $"{records.Count} records");
        Assert.All(records, r => Assert.InRange(r.Value.Length, 1, UsageBatchEncoding.MaxRecordBytes));
        Assert.All(records, r => Assert.Equal("acme", r.Key));
        Assert.All(records, r => Assert.True(UsageMessages.IsBatch(r.Headers, r.Value)));
        AssertSame(events, [.. records.SelectMany(r => Decode(r.Value))]);
    }

    [Fact]
    public void Every_truncation_of_a_record_is_refused_without_an_exception()
    {
        var bytes = Encode(Varied());
        for (var length = 0; length < bytes.Length; length++)
        {
            Assert.False(UsageBatchEncoding.TryRead(bytes.AsSpan(0, length), out _, out var error), $"{length} of {bytes.Length} bytes were read");
            Assert.Contains("usage", error);
        }
    }

    [Fact]
    public void Any_changed_byte_or_random_bytes_never_make_the_reader_throw()
    {
        var bytes = Encode(Varied());
        var random = new Random(18);
        for (var at = 0; at < bytes.Length; at++)
        {
            foreach (var value in new byte[] { 0, 1, 0x7F, 0x80, 0xFF, (byte)(bytes[at] ^ 0x01), (byte)random.Next(256) })
            {
                var changed = (byte[])bytes.Clone();
                changed[at] = value;
                var read = UsageBatchEncoding.TryRead(changed, out var events, out var error);
                Assert.True(read ? events is not null : error is not null);
            }
        }
        for (var i = 0; i < 5000; i++)
        {
            var noise = new byte[random.Next(0, 300)];
            random.NextBytes(noise);
            if (noise.Length >= 4 && i % 2 == 0) UsageBatchEncoding.Magic.CopyTo(noise);
            UsageBatchEncoding.TryRead(noise, out _, out _);
        }
    }

    [Theory]
    [InlineData("trailing bytes")]
    [InlineData("another version")]
    [InlineData("invalid UTF-8")]
    [InlineData("an undefined string")]
    [InlineData("a scale above 28")]
    [InlineData("no magic")]
    public void A_record_that_is_not_exactly_a_batch_is_refused_whole(string damage)
    {
        var one = new UsageEvent("abc", "acme", Meters.InputTokens, 7, Now, Model: "m");
        var bytes = Encode([one, one with { Id = "abd" }]).ToList();
        // Layout of the first event after the 4-byte magic, the tenant (1 + 4 bytes), base ticks (8) and the count (1):
        // flags, id (1 + 3), meter as a definition (0, 1 + 12).
        const int firstEvent = 4 + 5 + 8 + 1;
        switch (damage)
        {
            case "trailing bytes": bytes.Add(0); break;
            case "another version": bytes[3] = 3; break;
            case "invalid UTF-8": bytes[firstEvent + 2] = 0xC3; bytes[firstEvent + 3] = 0x28; break;
            case "an undefined string": bytes[firstEvent + 1 + 4] = 9; break;
            case "a scale above 28": bytes[firstEvent + 1 + 4 + 14] = 29; break;
            case "no magic": bytes[0] = (byte)'{'; break;
        }
        Assert.Equal("abc", Decode(Encode([one])).Single().Id);
        Assert.False(UsageBatchEncoding.TryRead(bytes.ToArray(), out _, out var error));
        Assert.StartsWith("is not", error);
    }

    [Fact]
    public void A_record_holds_one_tenant_and_text_that_is_not_Unicode_is_never_written()
    {
        var acme = new UsageEvent("a", "acme", Meters.InputTokens, 1, Now, Model: "m");
        Assert.Throws<ArgumentException>(() => Encode("acme", [acme, acme with { Tenant = "other" }], out _));
        Assert.ThrowsAny<ArgumentException>(() => Encode("acme", [acme with { Id = "a\ud800" }], out _));
    }

    [Fact]
    public void A_record_is_a_batch_by_its_first_bytes_or_its_encoding_header_else_v1_json()
    {
        var json = UsageEventJson.Write(new UsageEvent("a", "acme", Meters.InputTokens, 1, Now, Model: "m"));
        Assert.False(UsageMessages.IsBatch(null, json));
        Assert.False(UsageMessages.IsBatch(new Headers(), json));
        Assert.True(UsageMessages.IsBatch(null, Encode(Varied())));
        // A record that says it is a batch but is not one is read as a batch, and refused whole.
        var labelled = new Headers { { UsageBatchEncoding.Header, Encoding.ASCII.GetBytes(UsageBatchEncoding.Name) } };
        Assert.True(UsageMessages.IsBatch(labelled, json));
        Assert.False(UsageBatchEncoding.TryRead(json, out _, out _));
    }
}
