namespace Metering.EndToEndTests;

/// <summary>
/// Requests as the end-to-end tests send them, to Billing unless another service is named: any method and body, admin
/// calls that must succeed, the <see cref="SharedTeams"/> defined, a rate-card version that prices only the test's own
/// model, and waiting for the spend projection to count what was sent.
/// </summary>
public sealed class BillingRequests(MeteringSystem system)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(45);

    public async Task<(HttpStatusCode Status, string Body)> Send(HttpMethod method, string path, string? token, object? body = null, ServiceProcess? service = null)
    {
        var content = body switch
        {
            null => null,
            JsonNode node => new StringContent(node.ToJsonString(), Encoding.UTF8, "application/json"),
            _ => new StringContent(JsonSerializer.Serialize(body, MeteringJson.Options), Encoding.UTF8, "application/json"),
        };
        using var response = await system.Http.SendAsync(system.Request(method, service ?? system.Billing, path, token, content));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public async Task Admin(HttpMethod method, string path, object body)
    {
        var (status, text) = await Send(method, path, MeteringSystem.AdminToken, body);
        Assert.True(status == HttpStatusCode.OK, $"{method} {path}: {(int)status} {text}");
    }

    /// <summary>Defines the <see cref="SharedTeams"/> as every test defines them: Research, with Nlp (named Language) and Vision under it.</summary>
    public async Task DefineSharedTeams()
    {
        await Admin(HttpMethod.Put, $"/v1/teams/{Research}", new { name = "Research", cost_center = "CC-100" });
        await Admin(HttpMethod.Put, $"/v1/teams/{Nlp}", new { name = "Language", cost_center = "CC-110", parent = Research });
        await Admin(HttpMethod.Put, $"/v1/teams/{Vision}", new { name = "Vision", cost_center = "CC-120", parent = Research });
    }

    /// <summary>Adds a version on <paramref name="day"/> with the prices in effect that day and <paramref name="model"/>'s, so no other test's price changes.</summary>
    public async Task AddPrice(string model, string day, string price)
    {
        var billing = system.BillingApi();
        var on = DateOnly.ParseExact(day, "yyyy-MM-dd", CultureInfo.InvariantCulture);
        var current = await billing.GetRateCardOnAsync(on);
        var prices = (current?.Prices ?? []).Where(p => p.Model != model).Append(new RateCardPriceView(Meters.OutputTokens, model, null, price)).ToList();
        await billing.PutRateCardAsync(new RateCardRequest("USD", on, prices));
    }

    public static async Task WaitFor(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "spend never caught up");
            await Task.Delay(200);
        }
    }
}
