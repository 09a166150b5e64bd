using System.Text;
using System.Text.Json;
using Metering.Billing.RateCards;
using Metering.Budgets.Authorization;
using Metering.Budgets.Quotas;

namespace Metering.UnitTests;

/// <summary>
/// The request readers of Budgets and Billing on hostile input: every string that is not valid Unicode is a field
/// error (System.Text.Json's GetString threw, which answered 500), and authorize names what usage must name.
/// </summary>
public class RequestReadingTests
{
    private static List<string> Fields<T>(string json, Func<JsonElement, List<FieldError>, T?> read) where T : class
    {
        var errors = new List<FieldError>();
        using var document = JsonDocument.Parse(Encoding.UTF8.GetBytes(json));
        Assert.Null(read(document.RootElement, errors));
        return errors.Select(e => e.Field).Distinct().ToList();
    }

    private static List<string> Authorizing(string json) => Fields(json, (root, errors) => Authorize.Read(root, errors));

    [Theory]
    [InlineData("""{"meter":"\ud800","quantity":1,"model":"m"}""", "meter")]
    [InlineData("""{"meter":"input_tokens","quantity":1,"model":"\ud800"}""", "model")]
    [InlineData("""{"meter":"input_tokens","quantity":1,"model":"m\u0000"}""", "model")]
    [InlineData("""{"meter":"input_tokens","quantity":1,"model":"llama-4-70b\n"}""", "model")]
    [InlineData("""{"meter":"input_tokens","quantity":1,"model":5}""", "model")]
    [InlineData("""{"meter":"gpu_seconds","quantity":1,"gpu_type":"\udc00"}""", "gpu_type")]
    [InlineData("""{"meter":"gpu_seconds","quantity":1,"gpu_type":"h100\n"}""", "gpu_type")]
    public void Authorize_reads_every_string_safely_and_by_the_usage_rules(string json, string field) => Assert.Equal([field], Authorizing(json));

    [Theory]
    [InlineData("""{"meter":"input_tokens","quantity":1}""", "model")]
    [InlineData("""{"meter":"output_tokens","quantity":1,"gpu_type":"h100"}""", "model")]
    [InlineData("""{"meter":"gpu_seconds","quantity":1}""", "gpu_type")]
    [InlineData("""{"meter":"gpu_seconds","quantity":1,"model":"m"}""", "gpu_type")]
    public void Authorize_without_the_model_or_gpu_type_usage_needs_is_refused_so_no_cost_limit_is_passed(string json, string field) =>
        Assert.Equal([field], Authorizing(json));

    [Fact]
    public void Authorize_with_what_usage_names_is_read()
    {
        var errors = new List<FieldError>();
        using var tokens = JsonDocument.Parse("""{"meter":"input_tokens","quantity":10,"model":"llama-4-70b","reserve":true}""");
        Assert.Equal(new Contracts.Budgets.AuthorizeRequest("input_tokens", 10, "llama-4-70b", null, true), Authorize.Read(tokens.RootElement, errors));
        using var gpu = JsonDocument.Parse("""{"meter":"gpu_seconds","quantity":1.5,"gpu_type":"h100"}""");
        Assert.Equal(new Contracts.Budgets.AuthorizeRequest("gpu_seconds", 1.5m, null, "h100"), Authorize.Read(gpu.RootElement, errors));
        Assert.Empty(errors);
    }

    [Theory]
    [InlineData("""{"limits":[{"meter":"\ud800","period":"day","limit":1,"enforcement":"throttle"}]}""", "limits[0].meter")]
    [InlineData("""{"limits":[{"meter":"input_tokens","period":"\udc00","limit":1,"enforcement":"throttle"}]}""", "limits[0].period")]
    [InlineData("""{"limits":[{"meter":"input_tokens","period":"day","limit":"\ud800","enforcement":"throttle"}]}""", "limits[0].limit")]
    [InlineData("""{"limits":[{"meter":"input_tokens","period":"day","limit":"NaN","enforcement":"throttle"}]}""", "limits[0].limit")]
    [InlineData("""{"limits":[{"meter":"input_tokens","period":"day","limit":1e400,"enforcement":"throttle"}]}""", "limits[0].limit")]
    [InlineData("""{"limits":[{"meter":"input_tokens","period":"day","limit":1,"enforcement":"throttle\u0000"}]}""", "limits[0].enforcement")]
    [InlineData("""{"limits":[{"meter":"input_tokens","period":"day","limit":"250.00\u0000","enforcement":"throttle"}]}""", "limits[0].limit")]
    [InlineData("""{"limits":[{"meter":"input_tokens","period":"day","limit":" 250","enforcement":"throttle"}]}""", "limits[0].limit")]
    public void Quota_strings_are_read_safely(string json, string field) =>
        Assert.Equal([field], Fields(json, (root, errors) => QuotaRules.Read(root, errors)));

    private static string RateCard(string price) =>
        $$"""{"currency":"USD","effective_from":"2026-11-01","prices":[{{price}}]}""";

    [Theory]
    [InlineData("""{"meter":"output_tokens","model":"llama\u0000","price":"1.00"}""", "prices[0].model")]
    [InlineData("""{"meter":"output_tokens","model":"llama-4-70b\n","price":"1.00"}""", "prices[0].model")]
    [InlineData("""{"meter":"output_tokens","model":"\ud800","price":"1.00"}""", "prices[0].model")]
    [InlineData("""{"meter":"gpu_seconds","gpu_type":"h100\n","price":"1.00"}""", "prices[0].gpu_type")]
    [InlineData("""{"meter":"gpu_seconds","gpu_type":"h100","price":"\udc00"}""", "prices[0].price")]
    [InlineData("""{"meter":"gpu_seconds","gpu_type":"h100","price":"Infinity"}""", "prices[0].price")]
    [InlineData("""{"meter":"gpu_seconds","gpu_type":"h100","price":"0.60\u0000"}""", "prices[0].price")]
    public void Rate_card_prices_name_only_what_usage_can_name(string price, string field) =>
        Assert.Equal([field], Fields(RateCard(price), (root, errors) => RateCardRules.Read(root, errors)));

    [Fact]
    public void A_rate_card_currency_that_is_not_valid_unicode_is_a_field_error() =>
        Assert.Contains("currency", Fields("""{"currency":"\ud800","effective_from":"2026-11-01","prices":[{"meter":"gpu_seconds","gpu_type":"h100","price":"1"}]}""",
            (root, errors) => RateCardRules.Read(root, errors)));

    [Fact]
    public void A_property_name_that_is_not_valid_unicode_is_found_before_any_lookup_can_throw()
    {
        using var document = JsonDocument.Parse(Encoding.UTF8.GetBytes("""{"limits":[{"meter":"x"},{"ok":1,"\ud800":2}]}"""));
        Assert.Equal("limits[1]", JsonFields.FindInvalidName(document.RootElement, ""));
        using var fine = JsonDocument.Parse("""{"limits":[{"meter":"x","\ud83d\ude80":1}]}""");
        Assert.Null(JsonFields.FindInvalidName(fine.RootElement, ""));
    }
}
