using System.Text.Json;
using Metering.Contracts;

namespace Metering.UnitTests;

public class UsageEventRulesTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 10, 0, 0, TimeSpan.Zero);

    private static UsageEvent Valid(string meter = Meters.OutputTokens) => meter == Meters.GpuSeconds
        ? new("evt-1", "acme", meter, 12.5m, Now, GpuType: "h100")
        : new("evt-1", "acme", meter, 1234, Now, Model: "llama-4-70b", Service: "chat-api",
            Attributes: new Dictionary<string, string> { ["feature"] = "summarise" });

    private static IReadOnlyList<FieldError> Check(UsageEvent e) => UsageEventRules.Validate(e, Now);

    [Theory]
    [InlineData(Meters.InputTokens)]
    [InlineData(Meters.OutputTokens)]
    [InlineData(Meters.CachedInputTokens)]
    [InlineData(Meters.GpuSeconds)]
    public void A_well_formed_event_of_every_meter_is_valid(string meter) => Assert.Empty(Check(Valid(meter)));

    [Theory]
    [InlineData("")]
    [InlineData("Acme")]
    [InlineData("-acme")]
    [InlineData("acme_corp")]
    [InlineData("a234567890123456789012345678901234567890123456789012345678901234")]
    public void Tenant_must_match_the_pattern(string tenant) =>
        Assert.Equal("tenant", Assert.Single(Check(Valid() with { Tenant = tenant })).Field);

    [Fact]
    public void Tenant_of_63_characters_is_valid() =>
        Assert.Empty(Check(Valid() with { Tenant = "a" + new string('b', 62) }));

    [Theory]
    [InlineData("")]
    [InlineData("tab\there")]
    public void Id_must_be_printable_and_not_empty(string id) =>
        Assert.Equal("id", Assert.Single(Check(Valid() with { Id = id })).Field);

    [Fact]
    public void Id_is_at_most_128_characters()
    {
        Assert.Empty(Check(Valid() with { Id = new string('x', 128) }));
        Assert.Equal("id", Assert.Single(Check(Valid() with { Id = new string('x', 129) })).Field);
    }

    [Fact]
    public void Unknown_meter_is_rejected() =>
        Assert.Equal("meter", Assert.Single(Check(Valid() with { Meter = "tokens" })).Field);

    [Theory]
    [InlineData("-1")]
    [InlineData("1000000000000.5")]
    [InlineData("1000000000001")]
    public void Quantity_must_be_between_0_and_1e12(string quantity) =>
        Assert.Equal("quantity", Assert.Single(Check(Valid(Meters.GpuSeconds) with { Quantity = decimal.Parse(quantity) })).Field);

    [Fact]
    public void Quantity_bounds_are_inclusive()
    {
        Assert.Empty(Check(Valid() with { Quantity = 0 }));
        Assert.Empty(Check(Valid() with { Quantity = 1_000_000_000_000m }));
    }

    [Fact]
    public void Tokens_are_whole_numbers() =>
        Assert.Equal("quantity", Assert.Single(Check(Valid() with { Quantity = 10.5m })).Field);

    [Fact]
    public void Gpu_seconds_have_at_most_six_decimals()
    {
        Assert.Empty(Check(Valid(Meters.GpuSeconds) with { Quantity = 0.000001m }));
        Assert.Empty(Check(Valid(Meters.GpuSeconds) with { Quantity = 1.5000000m }));
        Assert.Equal("quantity", Assert.Single(Check(Valid(Meters.GpuSeconds) with { Quantity = 0.0000001m })).Field);
    }

    [Fact]
    public void Timestamp_window_is_62_days_back_to_5_minutes_ahead()
    {
        Assert.Empty(Check(Valid() with { Timestamp = Now.AddDays(-62) }));
        Assert.Empty(Check(Valid() with { Timestamp = Now.AddMinutes(5) }));
        Assert.Equal("timestamp", Assert.Single(Check(Valid() with { Timestamp = Now.AddDays(-62).AddSeconds(-1) })).Field);
        Assert.Equal("timestamp", Assert.Single(Check(Valid() with { Timestamp = Now.AddMinutes(5).AddSeconds(1) })).Field);
    }

    [Fact]
    public void Token_meters_need_a_model_and_gpu_seconds_a_gpu_type()
    {
        Assert.Equal("model", Assert.Single(Check(Valid() with { Model = null })).Field);
        Assert.Equal("gpu_type", Assert.Single(Check(Valid(Meters.GpuSeconds) with { GpuType = null })).Field);
        Assert.Equal("gpu_type", Assert.Single(Check(Valid(Meters.GpuSeconds) with { GpuType = "H100!" })).Field);
    }

    [Fact]
    public void Attributes_are_limited_in_count_and_size()
    {
        var many = Enumerable.Range(0, 33).ToDictionary(i => $"k{i}", i => "v");
        Assert.Equal("attributes", Assert.Single(Check(Valid() with { Attributes = many })).Field);
        Assert.Empty(Check(Valid() with { Attributes = many.Take(32).ToDictionary() }));

        var longKey = new Dictionary<string, string> { [new string('k', 65)] = "v" };
        Assert.StartsWith("attributes.", Assert.Single(Check(Valid() with { Attributes = longKey })).Field);
        var longValue = new Dictionary<string, string> { ["k"] = new string('v', 257) };
        Assert.Equal("attributes.k", Assert.Single(Check(Valid() with { Attributes = longValue })).Field);
        Assert.Empty(Check(Valid() with { Attributes = new Dictionary<string, string> { [new string('k', 64)] = new string('v', 256) } }));
    }

    [Fact]
    public void Json_shape_is_snake_case_as_specified()
    {
        var json = JsonSerializer.Serialize(Valid(), MeteringJson.Options);
        using var document = JsonDocument.Parse(json);
        var names = document.RootElement.EnumerateObject().Select(p => p.Name).ToList();
        Assert.Equal(["id", "tenant", "meter", "quantity", "timestamp", "model", "service", "attributes"], names);
        Assert.Equal(1234, document.RootElement.GetProperty("quantity").GetDecimal());
    }

    [Fact]
    public void Written_events_read_back_equal()
    {
        var e = Valid(Meters.GpuSeconds) with { Quantity = 3.141592m, Model = "llama-4-70b" };
        var errors = new List<FieldError>();
        var read = UsageEventJson.Read(UsageEventJson.Write(e), Now, errors);
        Assert.Empty(errors);
        Assert.NotNull(read);
        Assert.Equal(e with { Attributes = null }, read with { Attributes = null });
    }
}
