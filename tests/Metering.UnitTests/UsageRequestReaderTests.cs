using System.Text;
using System.Text.Json;
using Metering.Ingest.Usage;

namespace Metering.UnitTests;

/// <summary>
/// Ingest's streaming read of a usage request against the DOM it replaced (the whole body as a <see cref="JsonDocument"/>,
/// <see cref="JsonFields.FindInvalidName"/>, then each event through <see cref="UsageEventJson.Read(JsonElement, DateTimeOffset, string, ICollection{FieldError})"/>):
/// the same events, the same errors in the same order, the same refusal of a body that is not JSON.
/// </summary>
public sealed class UsageRequestReaderTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 10, 0, 0, TimeSpan.Zero);

    private const string Valid = """{"id":"e1","tenant":"acme","meter":"output_tokens","quantity":1234,"timestamp":"2026-11-23T09:00:00Z","model":"llama-4-70b","gpu_type":null,"service":"chat-api","attributes":{"feature":"summarise"}}""";
    private const string Gpu = """{"id":"g1","tenant":"acme","meter":"gpu_seconds","quantity":1.5,"timestamp":"2026-11-23T09:00:00.123456789+01:00","gpu_type":"h100"}""";

    /// <summary>What the DOM path answered, as Ingest read bodies before: the oracle.</summary>
    private static UsageRequestContent Dom(byte[] body)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(new MemoryStream(body));
        }
        catch (JsonException ex)
        {
            return UsageRequestContent.Refused(new("$", $"is not valid JSON: {ex.Message}"));
        }
        using (document)
        {
            var root = document.RootElement;
            if (JsonFields.FindInvalidName(root, "") is { } unnamed)
                return UsageRequestContent.Refused(new(unnamed, $"holds a property name that {JsonFields.InvalidText}"));
            var events = new List<UsageEvent>();
            var errors = new List<FieldError>();
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("events", out var array) || array.ValueKind != JsonValueKind.Array)
                return new([], [new("events", "is required and must be an array of usage events")], null);
            var count = array.GetArrayLength();
            if (count is 0 or > RecordUsage.MaxEvents)
                return new([], [new("events", $"must hold 1 to {RecordUsage.MaxEvents} events, not {count}")], null);
            var index = 0;
            foreach (var element in array.EnumerateArray())
            {
                if (UsageEventJson.Read(element, Now, $"events[{index}]", errors) is { } e) events.Add(e);
                index++;
            }
            return new(events, errors, null);
        }
    }

    private static void AssertSame(byte[] body)
    {
        var expected = Dom(body);
        var actual = UsageRequestReader.Read(body, Now);
        var shown = Encoding.UTF8.GetString(body);
        Assert.True(expected.Unreadable == actual.Unreadable, $"{shown}: unreadable {expected.Unreadable} != {actual.Unreadable}");
        Assert.True(expected.Errors.SequenceEqual(actual.Errors),
            $"{shown}: errors\n  {FieldError.Describe(expected.Errors)}\n  {FieldError.Describe(actual.Errors)}");
        Assert.Equal(expected.Events.Select(Written), actual.Events.Select(Written));
    }

    private static string Written(UsageEvent e) => Encoding.UTF8.GetString(UsageEventJson.Write(e));

    private static byte[] Utf8(string json) => Encoding.UTF8.GetBytes(json);

    private static byte[] Body(params string[] events) => Utf8($$"""{"events":[{{string.Join(",", events)}}]}""");

    [Theory]
    [InlineData(Valid)]
    [InlineData(Gpu)]
    [InlineData("""{"id":"e1","tenant":"acme","meter":"output_tokens","quantity":1.5,"timestamp":"2026-11-23T09:00:00Z","model":"m"}""")]
    [InlineData("""{"id":"e1","id":"e2","tenant":"acme","meter":"input_tokens","quantity":1,"timestamp":"2026-11-23T09:00:00Z","model":"m","model":5}""")]
    [InlineData("""{"\u0069d":"e1","tenant":"acme","meter":"input_tokens","quantity":1,"timestamp":"2026-11-23T09:00:00Z","model":"m"}""")]
    [InlineData("""{"id":"e1","tenant":"ACME","meter":"tokens","quantity":-1,"timestamp":"yesterday","model":"m m","service":""}""")]
    [InlineData("""{"id":5,"tenant":null,"meter":[],"quantity":"1","timestamp":{},"model":true,"gpu_type":1,"service":{"a":[1,{"b":2}]}}""")]
    [InlineData("""{"id":"\ud800","tenant":"acme\u0000","meter":"input_tokens","quantity":1e400,"timestamp":"2026-11-23T09:00:00Z","model":"\udc00x"}""")]
    [InlineData("""{"id":"e1","tenant":"acme","meter":"input_tokens","quantity":1E3,"timestamp":"2026-11-23T09:00:00Z","model":"m","attributes":{"a":"1","a":"2","b":3,"c":"\ud800","d":null,"e":{"f":1}}}""")]
    [InlineData("""{"id":"e1","tenant":"acme","meter":"input_tokens","quantity":-0,"timestamp":"2026-11-23T09:00:00Z","model":"m","attributes":{"a":"1"},"attributes":null}""")]
    [InlineData("""{"id":"e1","tenant":"acme","meter":"input_tokens","quantity":1,"timestamp":"2026-11-23T09:00:00Z","model":"m","attributes":[{"x":1}]}""")]
    [InlineData("""{"id":"e1","tenant":"acme","meter":"gpu_seconds","quantity":0.0000001,"timestamp":"2025-01-01T00:00:00Z","gpu_type":"H100","extra":{"deep":[[[{"z":null}]]]}}""")]
    [InlineData("""{}""")]
    [InlineData("""5""")]
    [InlineData("""[1,{"a":2}]""")]
    [InlineData("""null""")]
    public void An_event_reads_as_the_dom_read_it(string e)
    {
        AssertSame(Body(e));
        AssertSame(Body(Valid, e, Gpu));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("{")]
    [InlineData("""{"events":[]}""")]
    [InlineData("""{"events":{}}""")]
    [InlineData("""{"events":null}""")]
    [InlineData("""{"events":[1]}""")]
    [InlineData("""{"other":[{"x":1}]}""")]
    [InlineData("""[]""")]
    [InlineData("""{"events":[]} x""")]
    [InlineData("""{"events":[],}""")]
    [InlineData("""{"events":[] /* c */}""")]
    [InlineData("""{"events":[{"id":"e1"}],"events":"no"}""")]
    [InlineData("""{"events":"no","events":[{"id":"e1"}]}""")]
    [InlineData("""{"events":[{"id":"e1",}]}""")]
    [InlineData("""{"events":[{"id":"e1"]}""")]
    [InlineData("""{"events":[{"id":"e1" "tenant":"a"}]}""")]
    [InlineData("""{"events":[{"id":'e1'}]}""")]
    [InlineData("""{"events":[{"id":"e1\x"}]}""")]
    [InlineData("""{"events":[{"id":01}]}""")]
    [InlineData("""{"\ud800":1,"events":[{"id":"e1"}]}""")]
    [InlineData("""{"events":[{"id":"e1"},{"\udc00":1}],"x":{"\ud800":2}}""")]
    [InlineData("""{"events":[{"id":"e1","attributes":{"\ud800":"v"}}]}""")]
    [InlineData("""{"events":[{"id":"e1","x":[{"y":{"\ud800":"v"}}]}]}""")]
    [InlineData("""{"x":{"y":[{"\ud800":"v"}]},"events":[{"id":"e1"}]}""")]
    [InlineData("""[{"\ud800":1}]""")]
    [InlineData("""{"events":[{"id":"e1"}],"events":[{"\ud800":1}]}""")]
    public void A_body_reads_as_the_dom_read_it(string body) => AssertSame(Utf8(body));

    [Fact]
    public void Bytes_that_are_not_utf8_in_names_and_values_and_a_byte_order_mark_read_as_the_dom_read_them()
    {
        byte[] With(string before, byte[] bad, string after) => [.. Utf8(before), .. bad, .. Utf8(after)];
        byte[][] bad = [[0xFF], [0xC3], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xC0, 0xAF]];
        foreach (var bytes in bad)
        {
            AssertSame(With("""{"events":[{"id":"e""", bytes, """x","tenant":"acme","meter":"input_tokens","quantity":1,"timestamp":"2026-11-23T09:00:00Z","model":"m"}]}"""));
            AssertSame(With("""{"events":[{"i""", bytes, """d":"e1"}]}"""));
            AssertSame(With("""{"events":[{"id":"e1","attributes":{"k""", bytes, """y":"v"}}]}"""));
            AssertSame(With("""{"events":[{"id":"e1","attributes":{"k":"v""", bytes, """w"}}]}"""));
        }
        AssertSame([0xEF, 0xBB, 0xBF, .. Body(Valid)]);
        AssertSame([0xEF, 0xBB, 0xBF]);
    }

    [Fact]
    public void Nesting_past_the_depth_limit_and_the_event_count_bounds_read_as_the_dom_read_them()
    {
        AssertSame(Utf8($$"""{"events":[{{new string('[', 70)}}{{new string(']', 70)}}]}"""));
        AssertSame(Utf8($$"""{"events":[{"x":{{new string('[', 61)}}{{new string(']', 61)}}}]}"""));
        AssertSame(Body([.. Enumerable.Repeat(Valid, 1000)]));
        AssertSame(Body([.. Enumerable.Repeat(Valid, 1001)]));
        AssertSame(Body([.. Enumerable.Repeat(Valid, 1000), """{"\ud800":1}"""]));
        AssertSame(Body([.. Enumerable.Repeat("""{"id":1}""", 1000), "5", "[]"]));
    }

    [Fact]
    public void Bodies_broken_at_random_read_as_the_dom_read_them()
    {
        var random = new Random(18);
        var source = Body(Valid, Gpu, """{"id":"e3","tenant":"acme","meter":"input_tokens","quantity":7,"timestamp":"2026-11-23T09:59:00Z","model":"m","attributes":{"a":"b","c":"\ud83d\ude00"}}""");
        byte[] pieces = Utf8("{}[]\",:0123456789.eE-+ \\untrlfas\u00e9");
        for (var run = 0; run < 3000; run++)
        {
            var body = new List<byte>(source);
            for (var change = random.Next(1, 4); change > 0; change--)
            {
                var at = random.Next(body.Count);
                switch (random.Next(4))
                {
                    case 0: body.RemoveAt(at); break;
                    case 1: body.Insert(at, pieces[random.Next(pieces.Length)]); break;
                    case 2: body[at] = pieces[random.Next(pieces.Length)]; break;
                    default:
                        var length = Math.Min(random.Next(1, 40), body.Count - at);
                        body.InsertRange(at, body.GetRange(at, length));
                        break;
                }
            }
            AssertSame([.. body]);
        }
    }
}
