namespace Metering.EndToEndTests;

/// <summary>
/// After a restart Budgets prices no usage before it has read the rate-card topic to where it ended, and is not ready
/// until then: the broker refuses Budgets' offset lookups for the rate-card topic for a while (ListOffsets; the usage
/// consumer resumes from committed offsets and needs none), while usage arrives that a card prices.
/// </summary>
[Collection(DisruptedSystemCollection.Name)]
public sealed class RateCardCatchUpTests(DisruptedMeteringSystem system)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly string _tenant = $"e2e-catchup-{Guid.NewGuid():N}"[..40];
    private readonly string _model = $"catchup-{Guid.NewGuid():N}"[..24];

    private async Task<HttpStatusCode> Send(HttpMethod method, ServiceProcess service, string path, string token, object body)
    {
        using var response = await system.Http.SendAsync(system.Request(method, service, path, token,
            new StringContent(JsonSerializer.Serialize(body, MeteringJson.Options), Encoding.UTF8, "application/json")));
        return response.StatusCode;
    }

    private Task<HttpStatusCode> Use(string id, string? tenant = null) => Send(HttpMethod.Post, system.Ingest, "/v1/usage", MeteringSystem.EmitterToken,
        new { events = new[] { new UsageEvent(id, tenant ?? _tenant, Meters.InputTokens, 1_000_000, DateTimeOffset.UtcNow.AddSeconds(-1), _model) } });

    private async Task<(decimal Tokens, decimal Cost)> Used(string? tenant = null)
    {
        using var response = await system.Http.SendAsync(system.Request(HttpMethod.Get, system.Budgets, $"/v1/tenants/{tenant ?? _tenant}/budget", MeteringSystem.AdminToken));
        if (response.StatusCode != HttpStatusCode.OK) return (-1, -1);
        var usage = (await response.Content.ReadFromJsonAsync<BudgetView>(MeteringJson.Options))!.Usage.Where(u => u.Period == Periods.Month).ToList();
        return (usage.Where(u => u.Meter == Meters.InputTokens).Sum(u => u.Used), usage.Where(u => u.Meter == "cost_usd").Sum(u => u.Used));
    }

    private async Task WaitForUsed(decimal tokens, decimal cost)
    {
        var deadline = DateTime.UtcNow + Patience;
        var used = await Used();
        while (used != (tokens, cost) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
            used = await Used();
        }
        Assert.Equal((tokens, cost), used);
    }

    [Fact]
    public async Task After_a_restart_Budgets_prices_usage_only_once_it_has_read_the_rate_cards_and_is_not_ready_before()
    {
        var today = DateTime.UtcNow.ToString("yyyy-MM-dd");
        Assert.Equal(HttpStatusCode.OK, await Send(HttpMethod.Put, system.Billing, "/v1/rate-card", MeteringSystem.AdminToken,
            new { currency = "USD", effective_from = today, replace = true, prices = new[] { new { meter = Meters.InputTokens, model = _model, price = "2.00" } } }));
        // The running Budgets receives the new version through Kafka a moment later: probe with a tenant of its own until it prices.
        var probe = $"e2e-probe-{Guid.NewGuid():N}"[..40];
        var deadline = DateTime.UtcNow + Patience;
        for (var i = 0; (await Used(probe)).Cost == 0; i++)
        {
            Assert.True(DateTime.UtcNow < deadline, "Budgets never priced usage with the new rate card");
            Assert.Equal(HttpStatusCode.Accepted, await Use($"probe-{i}", probe));
            await Task.Delay(500);
        }
        Assert.Equal(HttpStatusCode.Accepted, await Use("before"));
        await WaitForUsed(1_000_000, 2.00m);

        // Budgets goes down (longer than its group's session timeout, so that its partitions are free when it is back);
        // usage arrives meanwhile; when it starts again, its lookups of the rate-card topic's offsets fail for a while.
        var restart = system.CrashAndRestartAsync(system.Budgets, TimeSpan.FromSeconds(12));
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Equal(HttpStatusCode.Accepted, await Use("while-down"));
        await system.Kafka.SendAsync("request-errors 2 60 6");

        // Not ready while the rate cards are not read, however long that takes.
        var url = system.Budgets.Url;
        var notReady = TimeSpan.Zero;
        var watch = Stopwatch.StartNew();
        while (!restart.IsCompleted && watch.Elapsed < Patience)
        {
            try
            {
                using var ready = await system.Http.GetAsync(new Uri(url, "/healthz/ready"));
                if (ready.StatusCode == HttpStatusCode.ServiceUnavailable) notReady += TimeSpan.FromMilliseconds(200);
            }
            catch (HttpRequestException)
            {
                // Not started yet.
            }
            await Task.Delay(200);
        }
        await restart;
        Assert.True(notReady > TimeSpan.Zero, "Budgets was ready before it had read the rate cards");

        // The usage that arrived while it was down is priced with the card: 2 × 1,000,000 tokens at 2.00 per million.
        await WaitForUsed(2_000_000, 4.00m);
    }
}
