using System.Net;
using System.Text;
using System.Text.Json;
using Metering.Contracts;
using Metering.Contracts.Billing;

namespace Metering.EndToEndTests;

/// <summary><c>PUT /v1/rate-card</c>: versions are validated field by field and kept.</summary>
[Collection(MeteringSystemCollection.Name)]
public sealed class RateCardTests(MeteringSystem system)
{
    private async Task<HttpResponseMessage> Put(string body, string? token = MeteringSystem.AdminToken) =>
        await system.Http.SendAsync(system.Request(HttpMethod.Put, system.Billing, "/v1/rate-card", token, new StringContent(body, Encoding.UTF8, "application/json")));

    [Fact]
    public async Task A_valid_version_is_added_and_listed_and_a_bad_one_changes_nothing()
    {
        var model = $"rc-{Guid.NewGuid():N}"[..16];
        using var added = await Put($$"""
            {"currency":"USD","effective_from":"2026-11-01","prices":[{"meter":"output_tokens","model":"{{model}}","price":"2.40"},
             {"meter":"gpu_seconds","gpu_type":"b200","price":"7.20"}]}
            """);
        Assert.Equal(HttpStatusCode.OK, added.StatusCode);
        var version = JsonSerializer.Deserialize<RateCardVersionView>(await added.Content.ReadAsStringAsync(), MeteringJson.Options)!;
        Assert.Equal((new DateOnly(2026, 11, 1), "USD"), (version.EffectiveFrom, version.Currency));
        Assert.Contains(new RateCardPriceView("output_tokens", model, null, "2.40"), version.Prices);

        using var bad = await Put($$"""
            {"currency":"EUR","effective_from":"2026-13-01","prices":[{"meter":"output_tokens","price":"2.40"},
             {"meter":"gpu_seconds","gpu_type":"b200","price":"-1"},{"meter":"gpu_seconds","gpu_type":"b200","price":0.5},
             {"meter":"input_tokens","model":"{{model}}","gpu_type":"h100","price":"1"}]}
            """);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var errors = JsonDocument.Parse(await bad.Content.ReadAsStringAsync()).RootElement.GetProperty("errors").EnumerateObject().Select(p => p.Name).Order();
        Assert.Equal(["currency", "effective_from", "prices[0].model", "prices[1].price", "prices[2].price", "prices[3].gpu_type"], errors);

        using (var emitter = await Put("{}", MeteringSystem.EmitterToken)) Assert.Equal(HttpStatusCode.Forbidden, emitter.StatusCode);

        using var list = await system.Http.SendAsync(system.Request(HttpMethod.Get, system.Billing, "/v1/rate-card", MeteringSystem.AdminToken));
        var versions = JsonDocument.Parse(await list.Content.ReadAsStringAsync()).RootElement.GetProperty("versions")
            .Deserialize<List<RateCardVersionView>>(MeteringJson.Options)!;
        Assert.Contains(versions, v => v.Version == version.Version && v.Prices.Count == 2);
        Assert.DoesNotContain(versions, v => v.Currency != "USD");
    }
}
