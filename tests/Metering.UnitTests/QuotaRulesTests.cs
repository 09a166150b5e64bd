using System.Text.Json;
using Metering.Budgets.Authorization;
using Metering.Budgets.Quotas;
using Metering.Contracts.Budgets;

namespace Metering.UnitTests;

public class QuotaRulesTests
{
    private static (IReadOnlyList<QuotaLimit>? Limits, List<FieldError> Errors) Read(string json)
    {
        var errors = new List<FieldError>();
        using var document = JsonDocument.Parse(json);
        return (QuotaRules.Read(document.RootElement, errors), errors);
    }

    [Fact]
    public void A_valid_quota_reads_with_the_default_soft_pct_and_money_as_a_string()
    {
        var (limits, errors) = Read("""
            {"limits":[{"meter":"input_tokens","period":"day","limit":1000000,"enforcement":"throttle"},
                       {"meter":"cost_usd","period":"month","limit":"2500.50","soft_pct":90,"enforcement":"alert"}]}
            """);
        Assert.Empty(errors);
        Assert.Equal([new QuotaLimit("input_tokens", "day", 1_000_000, 80, "throttle"), new QuotaLimit("cost_usd", "month", 2500.50m, 90, "alert")], limits);
    }

    [Theory]
    [InlineData("""{"limits":[{"meter":"bananas","period":"day","limit":1,"enforcement":"throttle"}]}""", "limits[0].meter")]
    [InlineData("""{"limits":[{"meter":"input_tokens","period":"week","limit":1,"enforcement":"throttle"}]}""", "limits[0].period")]
    [InlineData("""{"limits":[{"meter":"input_tokens","period":"day","limit":0,"enforcement":"throttle"}]}""", "limits[0].limit")]
    [InlineData("""{"limits":[{"meter":"input_tokens","period":"day","limit":-5,"enforcement":"throttle"}]}""", "limits[0].limit")]
    [InlineData("""{"limits":[{"meter":"input_tokens","period":"day","limit":5,"soft_pct":0,"enforcement":"throttle"}]}""", "limits[0].soft_pct")]
    [InlineData("""{"limits":[{"meter":"input_tokens","period":"day","limit":5,"soft_pct":101,"enforcement":"throttle"}]}""", "limits[0].soft_pct")]
    [InlineData("""{"limits":[{"meter":"input_tokens","period":"day","limit":5,"enforcement":"block"}]}""", "limits[0].enforcement")]
    [InlineData("""{"limits":[{"meter":"input_tokens","period":"day","limit":5,"enforcement":"alert"},{"meter":"input_tokens","period":"day","limit":9,"enforcement":"throttle"}]}""", "limits[1]")]
    [InlineData("""{"limit":[]}""", "limits")]
    public void Each_broken_rule_names_its_field(string json, string field)
    {
        var (limits, errors) = Read(json);
        Assert.Null(limits);
        Assert.Equal([field], errors.Select(e => e.Field).Distinct());
    }

    [Theory]
    [InlineData("""{"meter":"input_tokens","quantity":-1,"model":"m"}""", "quantity")]
    [InlineData("""{"meter":"cost_usd","quantity":1}""", "meter")]
    [InlineData("""{"meter":"input_tokens","quantity":1,"model":"m","reserve":"yes"}""", "reserve")]
    public void Authorize_requests_are_validated_by_field(string json, string field)
    {
        var errors = new List<FieldError>();
        using var document = JsonDocument.Parse(json);
        Assert.Null(Authorize.Read(document.RootElement, errors));
        Assert.Equal([field], errors.Select(e => e.Field));
    }
}
