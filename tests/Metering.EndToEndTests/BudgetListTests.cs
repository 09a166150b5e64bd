namespace Metering.EndToEndTests;

/// <summary>
/// <c>GET /v1/tenants</c> and <c>GET /v1/alerts</c> over HTTP, with quotas set and usage sent through Ingest and Kafka.
/// The system is shared: each test lists only its own tenants (an id prefix, or one tenant).
/// </summary>
[Collection(MeteringSystemCollection.Name)]
public sealed class BudgetListTests(MeteringSystem system)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private readonly string _prefix = $"e2e-list-{Guid.NewGuid():N}"[..24];

    private async Task<HttpResponseMessage> Send(HttpMethod method, ServiceProcess service, string path, object? body = null, string? token = MeteringSystem.AdminToken)
    {
        using var request = system.Request(method, service, path, token,
            body is null ? null : new StringContent(JsonSerializer.Serialize(body, MeteringJson.Options), Encoding.UTF8, "application/json"));
        return await system.Http.SendAsync(request);
    }

    private async Task PutQuota(string tenant, params object[] limits)
    {
        using var response = await Send(HttpMethod.Put, system.Budgets, $"/v1/tenants/{tenant}/quota", new { limits });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private async Task Use(string tenant, string id, decimal quantity, DateTimeOffset? at = null)
    {
        var usage = new UsageEvent(id, tenant, Meters.InputTokens, quantity, at ?? DateTimeOffset.UtcNow.AddSeconds(-1), "m", null);
        using var response = await Send(HttpMethod.Post, system.Ingest, "/v1/usage", new { events = new[] { usage } }, MeteringSystem.EmitterToken);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    private async Task<T> Get<T>(string path)
    {
        using var response = await Send(HttpMethod.Get, system.Budgets, path);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<T>(MeteringJson.Options))!;
    }

    private static async Task<T> WaitFor<T>(Func<Task<T>> read, Func<T, bool> done)
    {
        var deadline = DateTime.UtcNow + Patience;
        var value = await read();
        while (!done(value) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
            value = await read();
        }
        Assert.True(done(value), $"never reached the expected state; last: {JsonSerializer.Serialize(value, MeteringJson.Options)}");
        return value;
    }

    /// <summary>Every tenant of the query, page by page, following <c>next_cursor</c>.</summary>
    private async Task<List<TenantSummary>> AllTenants(string query, int limit)
    {
        var tenants = new List<TenantSummary>();
        var page = await Get<TenantListView>($"/v1/tenants?{query}&limit={limit}");
        tenants.AddRange(page.Tenants);
        while (page.NextCursor is { } cursor)
        {
            Assert.Equal(limit, page.Tenants.Count);
            page = await Get<TenantListView>($"/v1/tenants?{query}&limit={limit}&cursor={Uri.EscapeDataString(cursor)}");
            tenants.AddRange(page.Tenants);
        }
        return tenants;
    }

    [Fact]
    public async Task The_tenant_list_filters_by_status_and_prefix_and_pages_with_its_cursor()
    {
        var tenants = Enumerable.Range(1, 5).Select(i => $"{_prefix}-{i}").ToArray();
        foreach (var tenant in tenants) await PutQuota(tenant, new { meter = "input_tokens", period = "day", limit = 100, enforcement = "throttle" });
        await Use(tenants[1], "l1", 100);
        await Use(tenants[3], "l1", 150);

        var throttled = await WaitFor(() => AllTenants($"q={_prefix}&status=throttled", 1), t => t.Count == 2);
        Assert.Equal([tenants[1], tenants[3]], throttled.Select(t => t.Tenant));
        Assert.All(throttled, t => Assert.Equal((BudgetStatuses.Throttled, 1), (t.Status, t.Limits)));

        var all = await AllTenants($"q={_prefix}", 2);
        Assert.Equal(tenants, all.Select(t => t.Tenant));
        Assert.Equal([BudgetStatuses.Ok, BudgetStatuses.Throttled, BudgetStatuses.Ok, BudgetStatuses.Throttled, BudgetStatuses.Ok], all.Select(t => t.Status));
        Assert.All(all, t => Assert.InRange(t.UpdatedAt, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(1)));
        Assert.Equal([tenants[0], tenants[2], tenants[4]], (await AllTenants($"q={_prefix}&status=ok", 2)).Select(t => t.Tenant));
        Assert.Empty(await AllTenants($"q={_prefix}&status=warning", 2));

        // The wire shape: snake_case, a cursor only while more follow.
        using var response = await Send(HttpMethod.Get, system.Budgets, $"/v1/tenants?q={_prefix}&limit=4");
        var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(["tenant", "status", "limits", "updated_at"], json["tenants"]![0]!.AsObject().Select(p => p.Key));
        Assert.NotNull((string?)json["next_cursor"]);
        var last = JsonNode.Parse(await (await Send(HttpMethod.Get, system.Budgets, $"/v1/tenants?q={_prefix}-5")).Content.ReadAsStringAsync())!;
        Assert.False(last.AsObject().ContainsKey("next_cursor"));
    }

    [Fact]
    public async Task The_tenant_counts_equal_what_paging_through_the_list_by_status_counts()
    {
        var tenants = Enumerable.Range(1, 6).Select(i => $"{_prefix}-{i}").ToArray();
        foreach (var tenant in tenants)
            await PutQuota(tenant, new { meter = "input_tokens", period = "day", limit = 100, soft_pct = 50, enforcement = "throttle" });
        await Use(tenants[0], "c1", 100); // throttled
        await Use(tenants[2], "c1", 60);  // warning: past the soft 50 %
        await Use(tenants[4], "c1", 120); // throttled
        await Use($"{_prefix}x-other", "c1", 1); // ok, and only under the longer prefix's sibling

        var counts = await WaitFor(() => Get<TenantCountsView>($"/v1/tenants/counts?q={_prefix}-"), c => c is { Warning: 1, Throttled: 2 });
        Assert.Equal(new TenantCountsView(6, 3, 1, 2), counts);
        var listed = new TenantCountsView(
            (await AllTenants($"q={_prefix}-", 4)).Count,
            (await AllTenants($"q={_prefix}-&status=ok", 4)).Count,
            (await AllTenants($"q={_prefix}-&status=warning", 4)).Count,
            (await AllTenants($"q={_prefix}-&status=throttled", 4)).Count);
        Assert.Equal(listed, counts);
        await WaitFor(() => Get<TenantCountsView>($"/v1/tenants/counts?q={_prefix}"), c => c.Tenants == 7);
        Assert.Equal(new TenantCountsView(7, 4, 1, 2), await Get<TenantCountsView>($"/v1/tenants/counts?q={_prefix}"));

        // Without a prefix: every tenant the list knows, its statuses adding up to it.
        var all = await Get<TenantCountsView>("/v1/tenants/counts");
        Assert.True(all.Tenants >= 7 && all.Ok + all.Warning + all.Throttled <= all.Tenants, $"{all}");
        using var response = await Send(HttpMethod.Get, system.Budgets, $"/v1/tenants/counts?q={_prefix}-");
        Assert.Equal(["tenants", "ok", "warning", "throttled"], JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject().Select(p => p.Key));
    }

    [Fact]
    public async Task A_quota_crossed_shows_its_soft_and_limit_alerts_newest_first()
    {
        var tenant = $"{_prefix}-alerts";
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        await PutQuota(tenant, new { meter = "input_tokens", period = "day", limit = 1000, soft_pct = 80, enforcement = "alert" });
        await Use(tenant, "a1", 850);
        await WaitFor(() => Get<AlertListView>($"/v1/alerts?tenant={tenant}"), a => a.Alerts.Count == 1);
        await Use(tenant, "a2", 200);

        var alerts = (await WaitFor(() => Get<AlertListView>($"/v1/alerts?tenant={tenant}"), a => a.Alerts.Count == 2)).Alerts;
        Assert.Equal([(AlertKinds.Limit, 1050m), (AlertKinds.Soft, 850m)], alerts.Select(a => (a.Kind, a.Used)));
        Assert.All(alerts, a => Assert.Equal((tenant, Meters.InputTokens, Periods.Day, 1000m, (decimal?)null), (a.Tenant, a.Meter, a.Period, a.Limit, a.Forecast)));
        Assert.True(alerts[0].At >= alerts[1].At && alerts[1].At >= before);

        var paged = await Get<AlertListView>($"/v1/alerts?tenant={tenant}&limit=1");
        Assert.Equal(alerts[0], Assert.Single(paged.Alerts));
        var next = await Get<AlertListView>($"/v1/alerts?tenant={tenant}&limit=1&cursor={Uri.EscapeDataString(paged.NextCursor!)}");
        Assert.Equal(alerts[1], Assert.Single(next.Alerts));
        Assert.Null(next.NextCursor);
        var since = Uri.EscapeDataString(alerts[0].At.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'"));
        Assert.Equal([alerts[0]], (await Get<AlertListView>($"/v1/alerts?tenant={tenant}&since={since}")).Alerts);

        using var response = await Send(HttpMethod.Get, system.Budgets, $"/v1/alerts?tenant={tenant}");
        var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(["tenant", "kind", "meter", "period", "limit", "used", "at"], json["alerts"]![0]!.AsObject().Select(p => p.Key));
    }

    [Fact]
    public async Task A_month_end_forecast_over_a_month_limit_is_listed_as_a_forecast_alert_with_its_forecast()
    {
        var tenant = $"{_prefix}-forecast";
        await PutQuota(tenant, new { meter = "input_tokens", period = "month", limit = 2000, enforcement = "alert" });
        // 1,000 today and on each of the two days before. On any day from the 3rd of a month on, that is usage on 3 days of
        // the month: a forecast of at least the 3,000 used, over the limit. On the 1st or 2nd the month has fewer days of
        // usage and no forecast, so no forecast alert (the dated cases are the fake-clock tests' BudgetForecastTests).
        var now = DateTimeOffset.UtcNow.AddSeconds(-1);
        var days = Enumerable.Range(0, 3).Select(i => now.AddDays(-i)).ToArray();
        for (var i = 0; i < days.Length; i++) await Use(tenant, $"f{i}", 1000, days[i]);
        var inMonth = days.Count(d => (d.Year, d.Month) == (now.Year, now.Month));
        await WaitFor(() => Get<BudgetView>($"/v1/tenants/{tenant}/budget"),
            b => b.Usage.Any(u => u.Period == Periods.Month && u.Used == inMonth * 1000m));

        if (inMonth < 3)
        {
            Assert.DoesNotContain((await Get<AlertListView>($"/v1/alerts?tenant={tenant}")).Alerts, a => a.Kind == AlertKinds.Forecast);
            return;
        }
        var alerts = (await WaitFor(() => Get<AlertListView>($"/v1/alerts?tenant={tenant}"), a => a.Alerts.Any(x => x.Kind == AlertKinds.Forecast))).Alerts;
        var forecast = Assert.Single(alerts, a => a.Kind == AlertKinds.Forecast);
        Assert.Equal((tenant, Meters.InputTokens, Periods.Month, 2000m, 3000m), (forecast.Tenant, forecast.Meter, forecast.Period, forecast.Limit, forecast.Used));
        Assert.True(forecast.Forecast >= 3000m, $"forecast {forecast.Forecast}");

        using var response = await Send(HttpMethod.Get, system.Budgets, $"/v1/alerts?tenant={tenant}");
        var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        var listed = json["alerts"]!.AsArray().Single(a => (string?)a!["kind"] == AlertKinds.Forecast)!;
        Assert.Equal(["tenant", "kind", "meter", "period", "limit", "used", "forecast", "at"], listed.AsObject().Select(p => p.Key));
        Assert.Equal(forecast.Forecast, (decimal)listed["forecast"]!);
    }

    [Theory]
    [InlineData("/v1/tenants")]
    [InlineData("/v1/alerts")]
    [InlineData("/v1/tenants/counts")]
    public async Task Lists_are_for_admins_only(string path)
    {
        using (var anonymous = await Send(HttpMethod.Get, system.Budgets, path, token: null))
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        using (var emitter = await Send(HttpMethod.Get, system.Budgets, path, token: MeteringSystem.EmitterToken))
            Assert.Equal(HttpStatusCode.Forbidden, emitter.StatusCode);
        using (var viewer = await Send(HttpMethod.Get, system.Budgets, path, token: MeteringSystem.ViewerTokens.Values.First()))
            Assert.Equal(HttpStatusCode.Forbidden, viewer.StatusCode);
    }

    [Theory]
    [InlineData("/v1/tenants?status=bogus", "status")]
    [InlineData("/v1/tenants?status=OK", "status")]
    [InlineData("/v1/tenants?status=ok&status=warning", "status")]
    [InlineData("/v1/tenants?q=Acme", "q")]
    [InlineData("/v1/tenants?q=-acme", "q")]
    [InlineData("/v1/tenants?q=ac%25", "q")]
    [InlineData("/v1/tenants?q=ac_", "q")]
    [InlineData("/v1/tenants?q=a%00", "q")]
    [InlineData("/v1/tenants?limit=0", "limit")]
    [InlineData("/v1/tenants?limit=1001", "limit")]
    [InlineData("/v1/tenants?limit=abc", "limit")]
    [InlineData("/v1/tenants?limit=1.5", "limit")]
    [InlineData("/v1/tenants?limit=", "limit")]
    [InlineData("/v1/tenants?limit=99999999999999999999", "limit")]
    [InlineData("/v1/tenants?cursor=not-a-cursor!", "cursor")]
    [InlineData("/v1/tenants?cursor=", "cursor")]
    // base64url of "a:1:2", a cursor of the alert list.
    [InlineData("/v1/tenants?cursor=YToxOjI", "cursor")]
    // base64url of "t:Bad Tenant".
    [InlineData("/v1/tenants?cursor=dDpCYWQgVGVuYW50", "cursor")]
    [InlineData("/v1/tenants/counts?q=Acme", "q")]
    [InlineData("/v1/tenants/counts?q=a&q=b", "q")]
    [InlineData("/v1/alerts?tenant=Bad_Tenant", "tenant")]
    [InlineData("/v1/alerts?tenant=", "tenant")]
    [InlineData("/v1/alerts?since=yesterday", "since")]
    [InlineData("/v1/alerts?since=2026-12-01", "since")]
    [InlineData("/v1/alerts?since=2026-13-01T00:00:00Z", "since")]
    [InlineData("/v1/alerts?since=2026-12-01T00:00:00", "since")]
    [InlineData("/v1/alerts?limit=0", "limit")]
    [InlineData("/v1/alerts?limit=1001", "limit")]
    // base64url of "t:acme", a cursor of the tenant list.
    [InlineData("/v1/alerts?cursor=dDphY21l", "cursor")]
    // base64url of "a:x:1".
    [InlineData("/v1/alerts?cursor=YTp4OjE", "cursor")]
    [InlineData("/v1/alerts?cursor=%FF", "cursor")]
    public async Task A_bad_list_parameter_is_a_400_naming_it(string path, string field)
    {
        using var response = await Send(HttpMethod.Get, system.Budgets, path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{path}: {(int)response.StatusCode} {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal([field], JsonNode.Parse(body)!["errors"]!.AsObject().Select(e => e.Key));
    }
}
