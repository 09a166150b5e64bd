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
            {"currency":"USD","effective_from":"2026-11-01","replace":true,"prices":[{"meter":"output_tokens","model":"{{model}}","price":"2.40"},
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

    private async Task<(HttpStatusCode Status, JsonElement Body)> Get(string query, string token = MeteringSystem.AdminToken)
    {
        using var response = await system.Http.SendAsync(system.Request(HttpMethod.Get, system.Billing, "/v1/rate-card" + query, token));
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    [Fact]
    public async Task A_version_replaces_the_whole_price_list_dropping_prices_only_when_told_and_prices_are_readable_as_of_a_day()
    {
        // Years of their own, far ahead, so that no other test's version is in effect between them.
        var year = 2200 + Random.Shared.Next(0, 7000);
        var model = $"rc-{Guid.NewGuid():N}"[..16];
        string Version(int month, bool? replace, params string[] prices) =>
            $$"""{"currency":"USD","effective_from":"{{year}}-{{month:00}}-01",{{(replace is { } r ? $"\"replace\":{(r ? "true" : "false")}," : "")}}"prices":[{{string.Join(",", prices)}}]}""";
        var tokens = $$"""{"meter":"input_tokens","model":"{{model}}","price":"1.00"}""";
        var gpu = """{"meter":"gpu_seconds","gpu_type":"b300","price":"2.00"}""";

        // The first version replaces whatever versions of other tests are in effect before it (they price other models).
        using (var first = await Put(Version(1, true, tokens, gpu))) Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var (_, januaryBefore) = await Get($"?on={year}-01-15");

        // February drops the GPU price: refused, naming it, unless replace is true.
        foreach (var replace in new bool?[] { null, false })
        {
            using var dropped = await Put(Version(2, replace, tokens.Replace("1.00", "1.10")));
            Assert.Equal(HttpStatusCode.BadRequest, dropped.StatusCode);
            Assert.Equal("application/problem+json", dropped.Content.Headers.ContentType?.MediaType);
            var problem = JsonDocument.Parse(await dropped.Content.ReadAsStringAsync()).RootElement;
            Assert.Contains("gpu_seconds b300", problem.GetProperty("errors").GetProperty("prices")[0].GetString());
            var unpriced = Assert.Single(problem.GetProperty("unpriced").EnumerateArray());
            Assert.Equal(("gpu_seconds", "b300"), (unpriced.GetProperty("meter").GetString(), unpriced.GetProperty("gpu_type").GetString()));
        }
        using (var badFlag = await Put(Version(2, null, tokens).Replace("\"prices\"", "\"replace\":\"yes\",\"prices\"")))
            Assert.Contains("replace", JsonDocument.Parse(await badFlag.Content.ReadAsStringAsync()).RootElement.GetProperty("errors").EnumerateObject().Select(p => p.Name));
        // Nothing was added: February is still January's list.
        var (_, february) = await Get($"?on={year}-02-15");
        Assert.Equal(januaryBefore.GetProperty("version").GetInt32(), february.GetProperty("version").GetInt32());

        // A version that keeps every price (and adds one) needs no flag; one that drops them does.
        using (var kept = await Put(Version(3, null, tokens, gpu, """{"meter":"output_tokens","model":"other","price":"3.00"}""")))
            Assert.Equal(HttpStatusCode.OK, kept.StatusCode);
        using (var replaced = await Put(Version(2, true, tokens.Replace("1.00", "1.10")))) Assert.Equal(HttpStatusCode.OK, replaced.StatusCode);

        // As of a day, for admins and viewers alike: the whole list of the version in effect.
        foreach (var token in new[] { MeteringSystem.AdminToken, MeteringSystem.ViewerTokens["e2e-nlp"] })
        {
            var (status, body) = await Get($"?on={year}-02-28", token);
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal(("USD", $"{year}-02-01"), (body.GetProperty("currency").GetString(), body.GetProperty("effective_from").GetString()));
            var price = Assert.Single(body.GetProperty("prices").EnumerateArray());
            Assert.Equal((model, "1.10"), (price.GetProperty("model").GetString(), price.GetProperty("price").GetString()));
        }
        var (_, january) = await Get($"?on={year}-01-31");
        Assert.Equal(2, january.GetProperty("prices").GetArrayLength());
        var (_, march) = await Get($"?on={year}-03-01");
        Assert.Equal(3, march.GetProperty("prices").GetArrayLength());

        Assert.Equal(HttpStatusCode.NotFound, (await Get("?on=2000-01-01")).Status);
        foreach (var bad in new[] { "?on=2026-13-01", "?on=x", "?on=", "?on=2026-01-01%00", "?on=2026-01-01&on=2026-01-02" })
        {
            var (status, body) = await Get(bad);
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.True(body.GetProperty("errors").TryGetProperty("on", out _), bad);
        }
        Assert.Equal(HttpStatusCode.Forbidden, (await Get($"?on={year}-01-15", MeteringSystem.EmitterToken)).Status);
    }
}
