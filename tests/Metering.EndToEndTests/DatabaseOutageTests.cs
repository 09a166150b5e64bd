namespace Metering.EndToEndTests;

/// <summary>
/// PostgreSQL killed under the running services (<c>pg_ctl -m immediate</c> on a cluster of the test's own): every
/// endpoint that needs the database answers 503 with <c>Retry-After</c> as problem+json, never 500, and readiness says
/// not ready; usage keeps being accepted. After the restart everything works again and every total is exact.
/// </summary>
[Collection(FaultSystemCollection.Name)]
public sealed class DatabaseOutageTests(FaultMeteringSystem system)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);
    private readonly string _tenant = $"e2e-outage-{Guid.NewGuid():N}"[..40];

    private async Task<HttpResponseMessage> Send(HttpMethod method, ServiceProcess service, string path, object? body = null, string token = MeteringSystem.AdminToken) =>
        await system.Http.SendAsync(system.Request(method, service, path, token,
            body is null ? null : new StringContent(JsonSerializer.Serialize(body, MeteringJson.Options), Encoding.UTF8, "application/json")));

    private async Task Emit(string prefix, int count)
    {
        var events = Enumerable.Range(1, count).Select(i =>
            new UsageEvent($"{prefix}-{i}", _tenant, Meters.InputTokens, i, DateTimeOffset.UtcNow.AddSeconds(-1), "m")).ToList();
        using var response = await Send(HttpMethod.Post, system.Ingest, "/v1/usage", new { events }, MeteringSystem.EmitterToken);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    private static decimal Sum(int count) => count * (count + 1) / 2;

    private async Task WaitForTotals(decimal expected)
    {
        var deadline = DateTime.UtcNow + Patience;
        decimal budget = -1, invoice = -1;
        while (DateTime.UtcNow < deadline)
        {
            using (var response = await Send(HttpMethod.Get, system.Budgets, $"/v1/tenants/{_tenant}/budget"))
                if (response.IsSuccessStatusCode)
                    budget = (await response.Content.ReadFromJsonAsync<BudgetView>(MeteringJson.Options))!.Usage
                        .Where(u => u.Meter == Meters.InputTokens && u.Period == Periods.Month).Sum(u => u.Used);
            using (var response = await Send(HttpMethod.Get, system.Billing, $"/v1/invoices/{_tenant}/{Month}"))
                if (response.IsSuccessStatusCode)
                    invoice = (await response.Content.ReadFromJsonAsync<InvoiceView>(MeteringJson.Options))!.Lines.Sum(l => l.Quantity);
            if (budget == expected && invoice == expected) return;
            await Task.Delay(250);
        }
        Assert.Fail($"totals never reached {expected}: budget {budget}, invoice {invoice}");
    }

    private async Task<HttpStatusCode> Readiness(ServiceProcess service)
    {
        try
        {
            using var response = await system.Http.GetAsync(new Uri(service.Url, "/healthz/ready"));
            return response.StatusCode;
        }
        catch (HttpRequestException)
        {
            return HttpStatusCode.ServiceUnavailable;
        }
    }

    private async Task WaitForReadiness(HttpStatusCode expected)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (await Readiness(system.Budgets) != expected || await Readiness(system.Billing) != expected)
        {
            Assert.True(DateTime.UtcNow < deadline, $"Budgets and Billing never answered readiness with {expected}");
            await Task.Delay(250);
        }
    }

    [Fact]
    public async Task With_PostgreSQL_killed_every_endpoint_answers_503_with_Retry_After_and_after_its_restart_every_total_is_exact()
    {
        await system.WaitUntilAllReadyAsync(TimeSpan.FromMinutes(1));
        using (var quota = await Send(HttpMethod.Put, system.Budgets, $"/v1/tenants/{_tenant}/quota",
                   new { limits = new[] { new { meter = "input_tokens", period = "month", limit = 1_000_000, enforcement = "throttle" } } }))
            Assert.Equal(HttpStatusCode.OK, quota.StatusCode);
        await Emit("before", 40);
        await WaitForTotals(Sum(40));

        await system.Postgres.StopHardAsync();
        try
        {
            await WaitForReadiness(HttpStatusCode.ServiceUnavailable);
            // Ingest needs no database: usage is still accepted, and counted once the database is back.
            await Emit("during", 30);

            var requests = new (ServiceProcess Service, HttpMethod Method, string Path, object? Body)[]
            {
                (system.Budgets, HttpMethod.Get, $"/v1/tenants/{_tenant}/budget", null),
                (system.Budgets, HttpMethod.Get, $"/v1/tenants/{_tenant}-unseen/budget", null),
                (system.Budgets, HttpMethod.Put, $"/v1/tenants/{_tenant}/quota", new { limits = Array.Empty<object>() }),
                (system.Budgets, HttpMethod.Get, $"/v1/tenants/{_tenant}/quota/history", null),
                (system.Budgets, HttpMethod.Post, $"/v1/tenants/{_tenant}/authorize", new { meter = "input_tokens", quantity = 5, model = "m", reserve = true }),
                (system.Budgets, HttpMethod.Post, $"/v1/tenants/{_tenant}-unseen/authorize", new { meter = "input_tokens", quantity = 5, model = "m" }),
                (system.Billing, HttpMethod.Get, $"/v1/invoices/{_tenant}/{Month}", null),
                (system.Billing, HttpMethod.Get, $"/v1/invoices/{_tenant}/{Month}/usage", null),
                (system.Billing, HttpMethod.Post, $"/v1/invoices/{_tenant}/{Month}/finalize", new { force = true }),
                (system.Billing, HttpMethod.Post, $"/v1/usage/{_tenant}/before-1/void", new { reason = "outage test" }),
                (system.Billing, HttpMethod.Put, "/v1/rate-card", new { currency = "USD", effective_from = "2026-01-01", prices = new[] { new { meter = "input_tokens", model = "m", price = "1.00" } } }),
                (system.Billing, HttpMethod.Put, "/v1/teams/e2e-outage", new { name = "Outage", cost_center = "CC-9" }),
                (system.Billing, HttpMethod.Put, $"/v1/tenants/{_tenant}/team", new { team = "e2e-outage" }),
                (system.Billing, HttpMethod.Get, "/v1/teams", null),
                (system.Billing, HttpMethod.Get, $"/v1/tenants/{_tenant}/team", null),
                (system.Billing, HttpMethod.Get, "/v1/rate-card", null),
                (system.Billing, HttpMethod.Put, $"/v1/capacity-cost/{Month}", new { mode = "showback", items = new[] { new { gpu_type = "h100", gpu_hours = 1, cost = "1.00" } } }),
                (system.Billing, HttpMethod.Get, $"/v1/chargeback/{Month}", null),
                (system.Billing, HttpMethod.Get, $"/v1/reconciliation/{Month}", null),
            };
            var wrong = new List<string>();
            foreach (var (service, method, path, body) in requests)
            {
                using var response = await Send(method, service, path, body);
                var retryAfter = response.Headers.RetryAfter?.Delta;
                var contentType = response.Content.Headers.ContentType?.MediaType;
                if (response.StatusCode != HttpStatusCode.ServiceUnavailable || retryAfter is null || retryAfter <= TimeSpan.Zero || contentType != "application/problem+json")
                    wrong.Add($"{method} {service.Name} {path}: {(int)response.StatusCode} Retry-After {retryAfter?.ToString() ?? "none"} {contentType} {await response.Content.ReadAsStringAsync()}");
            }
            Assert.True(wrong.Count == 0, string.Join(Environment.NewLine, wrong));
        }
        finally
        {
            await system.Postgres.StartAgainAsync();
        }

        await WaitForReadiness(HttpStatusCode.OK);
        await WaitForTotals(Sum(40) + Sum(30));
        Assert.False(system.Budgets.HasExited || system.Billing.HasExited || system.Ingest.HasExited);

        // Everything works again: a quota change, a reservation, and the invoice's usage listing with every event.
        using (var quota = await Send(HttpMethod.Put, system.Budgets, $"/v1/tenants/{_tenant}/quota",
                   new { limits = new[] { new { meter = "input_tokens", period = "month", limit = 2_000_000, enforcement = "throttle" } } }))
            Assert.Equal(HttpStatusCode.OK, quota.StatusCode);
        using (var reserve = await Send(HttpMethod.Post, system.Budgets, $"/v1/tenants/{_tenant}/authorize",
                   new { meter = "input_tokens", quantity = 5, model = "m", reserve = true }, MeteringSystem.EmitterToken))
            Assert.Equal(HttpStatusCode.OK, reserve.StatusCode);
        using var listing = await Send(HttpMethod.Get, system.Billing, $"/v1/invoices/{_tenant}/{Month}/usage");
        Assert.Equal(HttpStatusCode.OK, listing.StatusCode);
        Assert.Equal(70, JsonDocument.Parse(await listing.Content.ReadAsStringAsync()).RootElement.GetProperty("usage").GetArrayLength());
    }
}
