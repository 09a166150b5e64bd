using System.Text;
using System.Text.Json;

namespace Metering.UnitTests;

public class UsageEventJsonTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 10, 0, 0, TimeSpan.Zero);

    private static (UsageEvent? Event, List<FieldError> Errors) Read(string json)
    {
        var errors = new List<FieldError>();
        using var document = JsonDocument.Parse(json);
        return (UsageEventJson.Read(document.RootElement, Now, "events[3]", errors), errors);
    }

    [Fact]
    public void Reads_the_example_of_the_specification()
    {
        var (e, errors) = Read("""
            {"id":"<1-128 chars, the idempotency key>","tenant":"acme","meter":"output_tokens","quantity":1234,
             "timestamp":"2026-11-23T10:00:00Z","model":"llama-4-70b","gpu_type":null,"service":"chat-api",
             "attributes":{"feature":"summarise"}}
            """);
        Assert.Empty(errors);
        Assert.Equal(new UsageEvent("<1-128 chars, the idempotency key>", "acme", "output_tokens", 1234, Now, "llama-4-70b", null, "chat-api",
            e!.Attributes), e);
        Assert.Equal("summarise", e.Attributes!["feature"]);
    }

    [Fact]
    public void Every_broken_rule_is_reported_with_its_indexed_field()
    {
        var (e, errors) = Read("""{"id":"x","tenant":"Acme","meter":"foo","quantity":-1,"timestamp":"yesterday"}""");
        Assert.Null(e);
        Assert.Equal(
            ["events[3].meter", "events[3].quantity", "events[3].tenant", "events[3].timestamp"],
            errors.Select(x => x.Field).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("""{"id":1,"tenant":"acme","meter":"input_tokens","quantity":1,"timestamp":"2026-11-23T10:00:00Z","model":"m"}""", "events[3].id")]
    [InlineData("""{"id":"a","tenant":"acme","meter":"input_tokens","quantity":"1","timestamp":"2026-11-23T10:00:00Z","model":"m"}""", "events[3].quantity")]
    [InlineData("""{"id":"a","tenant":"acme","meter":"input_tokens","timestamp":"2026-11-23T10:00:00Z","model":"m"}""", "events[3].quantity")]
    [InlineData("""{"id":"a","tenant":"acme","meter":"input_tokens","quantity":1,"timestamp":"2026-11-23 10:00:00","model":"m"}""", "events[3].timestamp")]
    [InlineData("""{"id":"a","tenant":"acme","meter":"input_tokens","quantity":1,"timestamp":"2026-11-23T10:00:00","model":"m"}""", "events[3].timestamp")]
    [InlineData("""{"id":"a","tenant":"acme","meter":"input_tokens","quantity":1,"timestamp":"2026-11-23T10:00:00Z","model":"m","attributes":{"n":1}}""", "events[3].attributes.n")]
    [InlineData("""{"id":"a","tenant":"acme","meter":"input_tokens","quantity":1,"timestamp":"2026-11-23T10:00:00Z","model":"m","attributes":[]}""", "events[3].attributes")]
    [InlineData("""[1]""", "events[3]")]
    public void Wrong_types_and_formats_name_their_field(string json, string field)
    {
        var (e, errors) = Read(json);
        Assert.Null(e);
        Assert.Equal(field, Assert.Single(errors).Field);
    }

    [Fact]
    public void Offsets_are_normalised_to_utc()
    {
        var (e, errors) = Read("""{"id":"a","tenant":"acme","meter":"input_tokens","quantity":1,"timestamp":"2026-11-23T11:00:00+01:00","model":"m"}""");
        Assert.Empty(errors);
        Assert.Equal(Now, e!.Timestamp);
        Assert.Equal(TimeSpan.Zero, e.Timestamp.Offset);
    }

    [Fact]
    public void A_payload_that_is_not_json_is_reported_not_thrown()
    {
        var errors = new List<FieldError>();
        Assert.Null(UsageEventJson.Read(Encoding.UTF8.GetBytes("garbage{"), Now, errors));
        Assert.Equal("$", Assert.Single(errors).Field);
    }

    private static string At(string timestamp) =>
        $$"""{"id":"a","tenant":"acme","meter":"input_tokens","quantity":1,"timestamp":"{{timestamp}}","model":"m"}""";

    [Theory]
    [InlineData("2026-11-23T10:00:00.1Z", 1_000_000L)]
    [InlineData("2026-11-23T10:00:00.1234567Z", 1_234_567L)]
    [InlineData("2026-11-23T10:00:00.12345678Z", 1_234_567L)]
    [InlineData("2026-11-23T10:00:00.123456789Z", 1_234_567L)]
    [InlineData("2026-11-23T10:00:00.999999999Z", 9_999_999L)]
    [InlineData("2026-11-23T11:00:00.000000099+01:00", 0L)]
    public void Nanosecond_timestamps_are_accepted_and_truncated_to_ticks(string timestamp, long ticksPastTen)
    {
        var (e, errors) = Read(At(timestamp));
        Assert.Empty(errors);
        Assert.Equal(Now.AddTicks(ticksPastTen), e!.Timestamp);
    }

    [Fact]
    public void The_age_and_skew_rules_judge_the_stored_instant_never_rounded_up()
    {
        // 5 minutes and 99 ns ahead is stored as exactly 5 minutes ahead (the limit): rounding up would refuse it.
        Assert.Empty(Read(At("2026-11-23T10:05:00.000000099Z")).Errors);
        Assert.Equal("events[3].timestamp", Assert.Single(Read(At("2026-11-23T10:05:00.000000100Z")).Errors).Field);
        Assert.Empty(Read(At("2026-09-22T10:00:00.000000001Z")).Errors);
        Assert.Equal("events[3].timestamp", Assert.Single(Read(At("2026-09-22T09:59:59.999999999Z")).Errors).Field);
    }

    [Theory]
    [InlineData("2026-11-23T10:00:00.1234567891Z")]
    [InlineData("2026-11-23T10:00:00.Z")]
    public void More_than_nine_fractional_digits_or_none_after_the_point_are_refused(string timestamp) =>
        Assert.Equal("events[3].timestamp", Assert.Single(Read(At(timestamp)).Errors).Field);
}
