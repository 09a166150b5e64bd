namespace Metering.EndToEndTests;

/// <summary>
/// Exactly once under the failures of real fleets: consumers crashing mid-stream, several consumer instances.
/// After each, Budgets' and Billing's totals equal what the load generator had confirmed, to the unit.
/// </summary>
[Collection(DisruptedSystemCollection.Name)]
public sealed class ExactlyOnceTests(DisruptedMeteringSystem system)
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(4);

    private static LoadOptions Load(long events, double rate) => new()
    {
        EventsPerSecond = rate,
        Duration = TimeSpan.FromMinutes(10),
        MaxEvents = events,
        Tenants = 12,
        TenantPrefix = $"eo-{Guid.NewGuid():N}"[..15] + "-",
        BatchSize = 500,
        Senders = 4,
    };

    private async Task AssertTotalsMatch(SentReport sent)
    {
        using var verification = new Verification(system.Budgets.Url, system.Billing.Url, MeteringSystem.AdminToken);
        var lines = await verification.WaitForMatchAsync(sent, Patience, CancellationToken.None);
        Assert.True(lines.All(l => l.Matches), Verification.ToTable(lines));
        Assert.Equal(sent.Totals.Count, lines.Count);
    }

    [Fact]
    public async Task Budgets_and_Billing_killed_mid_stream_of_100000_events_count_every_event_once()
    {
        await using var sink = new HttpSink(system.Ingest.Url, MeteringSystem.EmitterToken);
        var run = LoadRun.RunAsync(Load(100_000, 8_000), sink);

        // kill -9 while batches are being stored, restart, and again for the other consumer while the first catches up.
        await Task.Delay(TimeSpan.FromSeconds(3));
        await system.CrashAndRestartAsync(system.Budgets, TimeSpan.FromSeconds(1));
        await Task.Delay(TimeSpan.FromSeconds(1));
        await system.CrashAndRestartAsync(system.Billing, TimeSpan.FromSeconds(1));
        await Task.Delay(TimeSpan.FromSeconds(1));
        await system.CrashAndRestartAsync(system.Budgets, TimeSpan.Zero);
        var sent = await run;

        Assert.Equal(100_000, sent.Events);
        await AssertTotalsMatch(sent);
    }

    [Fact]
    public async Task Two_instances_of_each_consumer_count_every_event_once_even_when_one_dies()
    {
        var secondBudgets = await system.StartInstanceAsync("Budgets");
        var secondBilling = await system.StartInstanceAsync("Billing");
        var load = Load(40_000, 8_000);
        // Every tenant has a limit, so grains on both silos hold state that must survive the one that dies.
        foreach (var tenant in new FleetProfile(load.Tenants, load.TenantPrefix, load.Seed).Tenants)
        {
            using var put = await system.Http.SendAsync(system.Request(HttpMethod.Put, system.Budgets, $"/v1/tenants/{tenant}/quota",
                MeteringSystem.AdminToken, JsonContent.Create(new { limits = new[] { new { meter = "input_tokens", period = "month", limit = 1e12, enforcement = "throttle" } } })));
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }

        await using var sink = new HttpSink(system.Ingest.Url, MeteringSystem.EmitterToken);
        var run = LoadRun.RunAsync(load, sink);
        await Task.Delay(TimeSpan.FromSeconds(3));
        await secondBudgets.KillAsync();
        await secondBilling.KillAsync();
        var sent = await run;

        await AssertTotalsMatch(sent);
        foreach (var total in sent.Totals.Where(t => t.Meter == "input_tokens"))
        {
            using var response = await system.Http.SendAsync(system.Request(HttpMethod.Get, system.Budgets, $"/v1/tenants/{total.Tenant}/budget", MeteringSystem.AdminToken));
            var limit = Assert.Single((await response.Content.ReadFromJsonAsync<BudgetView>(MeteringJson.Options))!.Limits);
            Assert.Equal((1e12m, total.Quantity), (limit.Limit, limit.Used));
        }
    }
}
