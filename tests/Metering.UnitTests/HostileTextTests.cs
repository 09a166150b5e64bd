using System.Text;
using System.Text.Json;

namespace Metering.UnitTests;

/// <summary>
/// Text no event may carry (issue 13): U+0000 (PostgreSQL text cannot hold it: one such event failed Budgets' whole
/// batch), lone surrogates, control characters in identifiers, and identifiers that end in a line break (.NET's '$'
/// matched before it, so "acme\n" was a tenant of its own and "llama-4-70b\n" a model no rate card priced).
/// </summary>
public class HostileTextTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 10, 0, 0, TimeSpan.Zero);

    private static UsageEvent Valid() => new("evt-1", "acme", Meters.OutputTokens, 1234, Now, Model: "llama-4-70b", Service: "chat-api",
        Attributes: new Dictionary<string, string> { ["feature"] = "summarise" });

    private static IReadOnlyList<FieldError> Check(UsageEvent e) => UsageEventRules.Validate(e, Now);

    public static TheoryData<string, string> Broken => new()
    {
        { "id", "evt\0" }, { "id", "evt\ud800" }, { "id", "\udc00" },
        { "service", "chat\0api" }, { "service", "chat\ud800" },
        { "model", "llama-4-70b\n" }, { "model", "llama\0" },
        { "tenant", "acme\n" }, { "tenant", "acme\0" },
        { "attributes.feature", "sum\0marise" }, { "attributes.feature", "sum\ud800" }, { "attributes.feature", "\u001b[31mred" },
    };

    [Theory]
    [MemberData(nameof(Broken), DisableDiscoveryEnumeration = true)]
    public void A_string_field_with_nul_a_lone_surrogate_or_a_trailing_line_break_is_a_field_error(string field, string value)
    {
        var e = field switch
        {
            "id" => Valid() with { Id = value },
            "service" => Valid() with { Service = value },
            "model" => Valid() with { Model = value },
            "tenant" => Valid() with { Tenant = value },
            _ => Valid() with { Attributes = new Dictionary<string, string> { ["feature"] = value } },
        };
        Assert.Equal(field, Assert.Single(Check(e)).Field);
    }

    [Fact]
    public void Gpu_types_end_where_they_end()
    {
        var gpu = new UsageEvent("g", "acme", Meters.GpuSeconds, 1, Now, GpuType: "h100\n");
        Assert.Equal("gpu_type", Assert.Single(Check(gpu)).Field);
        Assert.False(UsageEventRules.IsValidGpuType("h100\n"));
        Assert.False(UsageEventRules.IsValidTenant("acme\n"));
        Assert.False(UsageEventRules.IsValidModel("llama-4-70b\n"));
    }

    public static TheoryData<string> UnprintableKeys => ["feat\0ure", "feat\nure", "feat\ud800"];

    [Theory]
    [MemberData(nameof(UnprintableKeys), DisableDiscoveryEnumeration = true)]
    public void An_attribute_key_that_is_not_printable_is_an_error_of_the_attributes_without_repeating_the_key(string key)
    {
        var error = Assert.Single(Check(Valid() with { Attributes = new Dictionary<string, string> { [key] = "v" } }));
        Assert.Equal("attributes", error.Field);
    }

    [Fact]
    public void Free_text_may_hold_tabs_and_line_breaks_and_any_well_formed_unicode()
    {
        Assert.Empty(Check(Valid() with { Attributes = new Dictionary<string, string> { ["note"] = "line 1\r\n\tline 2 — 🚀 ü" } }));
        Assert.True(TextRules.IsFreeText("a\tb\nc"));
        Assert.False(TextRules.IsFreeText("a\0b"));
        Assert.False(TextRules.IsIdentifier("a\tb"));
        Assert.True(TextRules.IsWellFormed("🚀"));
        Assert.False(TextRules.IsWellFormed("\ud83d"));
        Assert.False(TextRules.IsWellFormed("\ude80\ud83d"));
    }

    private static (UsageEvent? Event, List<FieldError> Errors) Read(byte[] json)
    {
        var errors = new List<FieldError>();
        return (UsageEventJson.Read(json, Now, errors), errors);
    }

    private static byte[] Event(string id = "\"a\"", string model = "\"m\"", string attributes = "{}") => Encoding.UTF8.GetBytes(
        $$"""{"id":{{id}},"tenant":"acme","meter":"input_tokens","quantity":1,"timestamp":"2026-11-23T10:00:00Z","model":{{model}},"attributes":{{attributes}}}""");

    private static byte[] WithRawBytes(string before, byte[] raw, string after) => [.. Encoding.UTF8.GetBytes(before), .. raw, .. Encoding.UTF8.GetBytes(after)];

    public static TheoryData<byte[], string> UnreadableJson => new()
    {
        { Event(id: "\"\\ud800\""), "id" },
        { Event(id: "\"x\\udc00y\""), "id" },
        { Event(model: "\"\\ud800\""), "model" },
        { Event(id: "\"a\\u0000\""), "id" },
        { Event(attributes: """{"reservation_id":"r\u0000"}"""), "attributes.reservation_id" },
        { Event(attributes: """{"reservation_id":"\ud800"}"""), "attributes.reservation_id" },
        { Event(attributes: """{"\ud800":"v"}"""), "attributes" },
        // A property name that is not valid Unicode makes any lookup in its object throw: the object is named instead.
        { Encoding.UTF8.GetBytes("""{"\ud800":1,"id":"a","tenant":"acme","meter":"input_tokens","quantity":1,"timestamp":"2026-11-23T10:00:00Z","model":"m"}"""), "$" },
        { Encoding.UTF8.GetBytes("""{"id":"a","tenant":"acme","meter":"input_tokens","quantity":1,"timestamp":"2026-11-23T10:00:00Z","model":"m","\udc00x":1}"""), "$" },
        { WithRawBytes("{\"id\":\"a", [0xff, 0xfe], "\",\"tenant\":\"acme\",\"meter\":\"input_tokens\",\"quantity\":1,\"timestamp\":\"2026-11-23T10:00:00Z\",\"model\":\"m\"}"), "id" },
        { WithRawBytes("""{"id":"a","tenant":"acme","meter":"input_tokens","quantity":1,"timestamp":"2026-11-23T10:00:00Z","model":"m""", [0xed, 0xa0, 0x80], "\"}"), "model" },
        { Encoding.UTF8.GetBytes("""{"id":"a","tenant":"acme","meter":"input_tokens","quantity":1,"timestamp":"2026-11-23T10:00:00Z\n","model":"m"}"""), "timestamp" },
    };

    [Theory]
    [MemberData(nameof(UnreadableJson))]
    public void Json_that_holds_invalid_unicode_or_nul_is_a_field_error_not_an_exception(byte[] json, string field)
    {
        var (e, errors) = Read(json);
        Assert.Null(e);
        Assert.Equal(field, Assert.Single(errors).Field);
    }

    [Fact]
    public void Json_fields_read_invalid_text_as_an_error_of_the_named_field()
    {
        using var document = JsonDocument.Parse("""{"meter":"\ud800","ok":"x","n":1}""");
        var errors = new List<FieldError>();
        Assert.Null(JsonFields.Text(document.RootElement, "meter", "limits[0].meter", errors));
        Assert.Equal("x", JsonFields.Text(document.RootElement, "ok", "ok", errors));
        Assert.Null(JsonFields.Text(document.RootElement, "n", "n", errors));
        Assert.Null(JsonFields.Text(document.RootElement, "absent", "absent", errors));
        Assert.Equal([new FieldError("limits[0].meter", JsonFields.InvalidText), new FieldError("n", "must be a string")], errors);
    }
}
