namespace Metering.EndToEndTests;

/// <summary>
/// Requests to Billing as the spend and forecast tests send them: any method and body, admin calls that must succeed, a
/// rate-card version that prices only the test's own model, and waiting for the spend projection to count what was sent.
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

    /// <summary>Adds a version on <paramref name="day"/> with the prices in effect that day and <paramref name="model"/>'s, so no other test's price changes.</summary>
    public async Task AddPrice(string model, string day, string price)
    {
        var (status, current) = await Send(HttpMethod.Get, $"/v1/rate-card?on={day}", MeteringSystem.AdminToken);
        var prices = status == HttpStatusCode.OK ? JsonNode.Parse(current)!["prices"]!.AsArray().Where(p => (string?)p!["model"] != model).Select(p => p!.DeepClone()).ToList() : [];
        prices.Add(new JsonObject { ["meter"] = Meters.OutputTokens, ["model"] = model, ["price"] = price });
        var body = new JsonObject { ["currency"] = "USD", ["effective_from"] = day, ["prices"] = new JsonArray([.. prices]) };
        var (put, text) = await Send(HttpMethod.Put, "/v1/rate-card", MeteringSystem.AdminToken, body);
        Assert.True(put == HttpStatusCode.OK, text);
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
