using Metering.Emitter;

namespace Metering.EndToEndTests;

/// <summary>Quotas, status, authorize and reservations through Budgets' HTTP API, with usage flowing through Ingest and Kafka.</summary>
[Collection(MeteringSystemCollection.Name)]
public sealed class BudgetTests(MeteringSystem system)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private readonly string _tenant = $"e2e-budget-{Guid.NewGuid():N}"[..40];

    private async Task<HttpResponseMessage> Send(HttpMethod method, ServiceProcess service, string path, object? body, string? token = MeteringSystem.AdminToken,
        string? actor = null)
    {
        using var request = system.Request(method, service, path, token,
            body is null ? null : new StringContent(body as string ?? JsonSerializer.Serialize(body, MeteringJson.Options), Encoding.UTF8, "application/json"));
        if (actor is not null) request.Headers.Add(QuotaHeaders.Actor, actor);
        return await system.Http.SendAsync(request);
    }

    private Task<BudgetView> PutQuota(string actor, params QuotaLimit[] limits) => system.BudgetsApi().PutQuotaAsync(_tenant, new QuotaRequest(limits), actor);

    private static QuotaLimit Limit(string meter, string period, decimal limit, string enforcement, int softPct = 80) => new(meter, period, limit, softPct, enforcement);

    private Task Use(string id, string meter, decimal quantity, DateTimeOffset? at = null) =>
        Use(new UsageEvent(id, _tenant, meter, quantity, at ?? DateTimeOffset.UtcNow.AddSeconds(-1), Meters.IsTokenMeter(meter) ? "m" : null,
            Meters.IsTokenMeter(meter) ? null : "h100"));

    private async Task Use(UsageEvent usage) => Assert.Equal(1, (await system.IngestApi().SendUsageAsync([usage])).Accepted);

    private async Task<BudgetView> WaitForBudget(Func<BudgetView, bool> done)
    {
        BudgetView? budget = null;
        var deadline = DateTime.UtcNow + Patience;
        while (DateTime.UtcNow < deadline)
        {
            budget = await system.BudgetsApi().GetBudgetAsync(_tenant);
            if (done(budget)) return budget;
            await Task.Delay(100);
        }
        Assert.Fail($"budget never reached the expected state; last: {JsonSerializer.Serialize(budget, MeteringJson.Options)}");
        return budget!;
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition() && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.True(condition());
    }

    private async Task<(HttpStatusCode Status, AuthorizeResponse Answer)> Authorize(string meter, decimal quantity, bool reserve = false)
    {
        // What usage of the meter names, as authorize requires.
        var tokens = Meters.IsTokenMeter(meter);
        using var response = await Send(HttpMethod.Post, system.Budgets, $"/v1/tenants/{_tenant}/authorize",
            new { meter, quantity, model = tokens ? "m" : null, gpu_type = tokens ? null : "h100", reserve }, MeteringSystem.EmitterToken);
        return (response.StatusCode, (await response.Content.ReadFromJsonAsync<AuthorizeResponse>(MeteringJson.Options))!);
    }

    /// <summary>Every record about this tenant on a topic, read from the beginning until it has been quiet for a second.</summary>
    private List<T> Read<T>(KafkaTopic topic, int atLeast)
    {
        using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
        {
            BootstrapServers = system.KafkaBootstrapServers, GroupId = $"e2e-{Guid.NewGuid()}", EnableAutoCommit = false,
        }).Build();
        consumer.Assign(Enumerable.Range(0, topic.Partitions).Select(p => new TopicPartitionOffset(topic.Name, p, Offset.Beginning)));
        var found = new List<T>();
        var deadline = DateTime.UtcNow + Patience;
        while (DateTime.UtcNow < deadline)
        {
            var record = consumer.Consume(TimeSpan.FromSeconds(1));
            if (record is null && found.Count >= atLeast) break;
            if (record?.Message.Key == _tenant) found.Add(JsonSerializer.Deserialize<T>(record.Message.Value, MeteringJson.Options)!);
        }
        return found;
    }

    [Fact]
    public async Task Crossing_a_hard_limit_throttles_at_once_and_raising_the_limit_lifts_it()
    {
        await using var emitter = new UsageEmitter(new UsageEmitterOptions { BootstrapServers = system.KafkaBootstrapServers });
        await emitter.ThrottlesCaughtUp.WaitAsync(Patience);
        var set = await PutQuota("alice", Limit(Meters.InputTokens, Periods.Day, 1000, Enforcements.Throttle));
        Assert.Equal(BudgetStatuses.Ok, set.Status);

        await Use("u1", Meters.InputTokens, 600);
        await Use("u2", Meters.InputTokens, 500);
        var throttled = await WaitForBudget(b => b.Status == BudgetStatuses.Throttled);
        // The emitter library's in-memory set follows the broadcast.
        await WaitUntil(() => emitter.IsThrottled(_tenant));
        var limit = Assert.Single(throttled.Limits);
        Assert.Equal((1000m, 1100m, 0m, 80), (limit.Limit, limit.Used, limit.Remaining, limit.SoftPct));

        var (status, refused) = await Authorize(Meters.InputTokens, 1);
        Assert.Equal(HttpStatusCode.TooManyRequests, status);
        Assert.False(refused.Allowed);
        Assert.InRange(refused.RetryAfterSeconds!.Value, 1, 86400);
        // A meter without a limit is not throttled.
        Assert.Equal(HttpStatusCode.OK, (await Authorize(Meters.OutputTokens, 1_000_000)).Status);

        var raised = await PutQuota("bob", Limit(Meters.InputTokens, Periods.Day, 5000, Enforcements.Throttle));
        Assert.Equal(BudgetStatuses.Ok, raised.Status);
        await WaitUntil(() => !emitter.IsThrottled(_tenant));
        Assert.Equal(HttpStatusCode.OK, (await Authorize(Meters.InputTokens, 3900)).Status);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await Authorize(Meters.InputTokens, 3901)).Status);

        // Platform services learn both changes from the compacted status topic.
        var changes = Read<BudgetStatusChanged>(KafkaTopics.BudgetStatus, atLeast: 2);
        Assert.Equal([BudgetStatuses.Throttled, BudgetStatuses.Ok], changes.Select(c => c.Status));
    }

    [Fact]
    public async Task Quota_history_records_every_change_with_its_author_and_bad_or_unauthorised_changes_change_nothing()
    {
        await PutQuota("alice", Limit(Meters.GpuSeconds, Periods.Month, 36000, Enforcements.Alert, softPct: 90));
        // Limits written as strings, soft_pct left to its default: the body as a client that is not this library may send it.
        using (var second = await Send(HttpMethod.Put, system.Budgets, $"/v1/tenants/{_tenant}/quota", new
               {
                   limits = new object[]
                   {
                       new { meter = "gpu_seconds", period = "month", limit = "72000.5", enforcement = "throttle" },
                       new { meter = "cost_usd", period = "day", limit = "250.00", enforcement = "alert" },
                   },
               }, actor: "bob"))
            Assert.Equal(HttpStatusCode.OK, second.StatusCode);

        using (var bad = await Send(HttpMethod.Put, system.Budgets, $"/v1/tenants/{_tenant}/quota",
                   new { limits = new[] { new { meter = "gpu_seconds", period = "year", limit = 1, enforcement = "throttle" } } }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Equal("application/problem+json", bad.Content.Headers.ContentType?.MediaType);
            Assert.Contains("limits[0].period", await bad.Content.ReadAsStringAsync());
        }
        using (var emitter = await Send(HttpMethod.Put, system.Budgets, $"/v1/tenants/{_tenant}/quota", new { limits = Array.Empty<object>() }, MeteringSystem.EmitterToken))
            Assert.Equal(HttpStatusCode.Forbidden, emitter.StatusCode);
        using (var anonymous = await Send(HttpMethod.Put, system.Budgets, $"/v1/tenants/{_tenant}/quota", new { limits = Array.Empty<object>() }, token: null))
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);

        var history = (await system.BudgetsApi().GetQuotaHistoryAsync(_tenant)).Changes;
        Assert.Equal(["admin/alice", "admin/bob"], history.Select(h => h.ChangedBy));
        Assert.Empty(history[0].Before);
        Assert.Equal(new QuotaLimit("gpu_seconds", "month", 36000, 90, "alert"), Assert.Single(history[0].After));
        Assert.Equal(history[0].After, history[1].Before);
        Assert.Equal([new QuotaLimit("gpu_seconds", "month", 72000.5m, 80, "throttle"), new QuotaLimit("cost_usd", "day", 250.00m, 80, "alert")], history[1].After);
    }

    [Fact]
    public async Task A_month_limit_shows_its_month_end_forecast_and_a_day_limit_none()
    {
        await PutQuota("alice", Limit(Meters.GpuSeconds, Periods.Month, 1_000_000_000, Enforcements.Alert),
            Limit(Meters.GpuSeconds, Periods.Day, 1_000_000_000, Enforcements.Alert));
        // 1,000.5 today and on each of the two days before: from the 3rd of a month on, usage on 3 days of the month, which
        // is what a forecast needs; on the 1st or 2nd fewer (the dated cases are the fake-clock tests' BudgetForecastTests).
        var now = DateTimeOffset.UtcNow.AddSeconds(-1);
        var days = Enumerable.Range(0, 3).Select(i => now.AddDays(-i)).ToArray();
        for (var i = 0; i < days.Length; i++) await Use($"g{i}", Meters.GpuSeconds, 1000.5m, days[i]);
        var inMonth = days.Count(d => (d.Year, d.Month) == (now.Year, now.Month));
        var budget = await WaitForBudget(b => b.Usage.Any(u => u.Period == Periods.Month && u.Used == inMonth * 1000.5m));

        Assert.Null(budget.Limits[1].Forecast);
        if (inMonth < 3) Assert.Null(budget.Limits[0].Forecast);
        else
        {
            var forecast = budget.Limits[0].Forecast!;
            // Never less than the month's usage so far, inside its interval, and the limit is far away.
            Assert.True(3001.5m <= forecast.Low && forecast.Low <= forecast.UsedAtPeriodEnd && forecast.UsedAtPeriodEnd <= forecast.High,
                JsonSerializer.Serialize(forecast, MeteringJson.Options));
            Assert.Null(forecast.ExhaustedOn);
        }

        // The wire shape: forecast only on the month limit, with exhausted_on only when the limit is reached within the month.
        using var response = await Send(HttpMethod.Get, system.Budgets, $"/v1/tenants/{_tenant}/budget", null);
        var limits = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("limits");
        Assert.False(limits[1].TryGetProperty("forecast", out _));
        Assert.Equal(inMonth >= 3, limits[0].TryGetProperty("forecast", out var shown));
        if (inMonth >= 3) Assert.Equal(["used_at_period_end", "low", "high"], shown.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task A_soft_threshold_alerts_once_not_once_per_event()
    {
        await PutQuota("alice", Limit(Meters.OutputTokens, Periods.Month, 1000, Enforcements.Alert, softPct: 50));
        for (var i = 0; i < 8; i++) await Use($"o{i}", Meters.OutputTokens, 100);
        var warned = await WaitForBudget(b => b.Usage.Any(u => u.Meter == Meters.OutputTokens && u.Period == Periods.Month && u.Used == 800));
        Assert.Equal(BudgetStatuses.Warning, warned.Status);

        var alerts = Read<BudgetAlert>(KafkaTopics.BudgetAlerts, atLeast: 1);
        var alert = Assert.Single(alerts);
        Assert.Equal(("output_tokens", "month", "soft", 1000m), (alert.Meter, alert.Period, alert.Threshold, alert.Limit));
    }

    [Fact]
    public async Task Two_hundred_concurrent_reservations_never_hold_more_than_the_limit()
    {
        await PutQuota("alice", Limit(Meters.OutputTokens, Periods.Day, 1000, Enforcements.Throttle));

        var answers = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => Task.Run(() => Authorize(Meters.OutputTokens, 10, reserve: true))));

        var allowed = answers.Where(a => a.Status == HttpStatusCode.OK).ToList();
        Assert.Equal(100, allowed.Count);
        Assert.All(allowed, a => Assert.False(string.IsNullOrEmpty(a.Answer.ReservationId)));
        Assert.All(answers.Where(a => a.Status != HttpStatusCode.OK), a => Assert.Equal(HttpStatusCode.TooManyRequests, a.Status));

        // Usage that names a reservation settles it: the hold gives way to the actual (smaller) quantity.
        var settled = allowed[0].Answer.ReservationId!;
        var usage = new UsageEvent("settle-1", _tenant, Meters.OutputTokens, 4, DateTimeOffset.UtcNow.AddSeconds(-1), "m",
            Attributes: new Dictionary<string, string> { ["reservation_id"] = settled });
        await Use(usage);
        await WaitForBudget(b => b.Limits.Any(l => l.Used == 4));
        Assert.Equal(HttpStatusCode.OK, (await Authorize(Meters.OutputTokens, 6)).Status);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await Authorize(Meters.OutputTokens, 7)).Status);
    }

    [Fact]
    public async Task A_cost_limit_prices_usage_and_requests_with_the_rate_card_Billing_publishes()
    {
        var model = $"e2e-{Guid.NewGuid():N}"[..20];
        await PutQuota("alice", Limit(CostMeter.CostUsd, Periods.Day, 1.00m, Enforcements.Throttle));
        await system.BillingApi().PutRateCardAsync(new RateCardRequest("USD", DateOnly.FromDateTime(DateTime.UtcNow),
            [new RateCardPriceView(Meters.InputTokens, model, null, "0.60"), new RateCardPriceView(Meters.GpuSeconds, null, "h100", "3.60")], Replace: true));

        // Budgets learns the rate card from Kafka: 2,000,000 tokens of the model cost 1.20 > 1.00 once it has.
        async Task<HttpStatusCode> Ask(decimal tokens)
        {
            using var response = await Send(HttpMethod.Post, system.Budgets, $"/v1/tenants/{_tenant}/authorize", new { meter = "input_tokens", quantity = tokens, model },
                MeteringSystem.EmitterToken);
            return response.StatusCode;
        }
        await WaitUntilAsync(async () => await Ask(2_000_000) == HttpStatusCode.TooManyRequests);

        await Use(new UsageEvent("c1", _tenant, Meters.InputTokens, 1_000_000, DateTimeOffset.UtcNow.AddSeconds(-1), model));
        var budget = await WaitForBudget(b => b.Limits.Single().Used == 0.60m);
        Assert.Contains(budget.Usage, u => u.Meter == "cost_usd" && u.Period == "day" && u.Used == 0.60m);

        // 0.60 used: 666,666 more tokens cost 0.3999996 (allowed), 666,667 cost 0.4000002 (refused).
        Assert.Equal(HttpStatusCode.OK, await Ask(666_666));
        Assert.Equal(HttpStatusCode.TooManyRequests, await Ask(666_667));
    }

    [Fact]
    public async Task Holding_nothing_is_refused_and_nothing_is_held()
    {
        using var response = await Send(HttpMethod.Post, system.Budgets, $"/v1/tenants/{_tenant}/authorize",
            new { meter = "input_tokens", quantity = 0, model = "m", reserve = true }, MeteringSystem.EmitterToken);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("errors");
        Assert.Equal(["quantity"], errors.EnumerateObject().Select(e => e.Name));
        // Asking whether zero more may be spent, without holding it, is still a question with an answer.
        using var ask = await Send(HttpMethod.Post, system.Budgets, $"/v1/tenants/{_tenant}/authorize",
            new { meter = "input_tokens", quantity = 0, model = "m" }, MeteringSystem.EmitterToken);
        Assert.Equal(HttpStatusCode.OK, ask.StatusCode);
    }

    [Fact]
    public async Task Reading_tenants_Budgets_has_never_seen_activates_no_grain()
    {
        async Task<int> ActiveGrains()
        {
            using var response = await Send(HttpMethod.Get, system.Budgets, "/v1/diagnostics/memory", null);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("active_tenant_grains").GetInt32();
        }

        var before = await ActiveGrains();
        for (var i = 0; i < 200; i++)
        {
            var budget = await system.BudgetsApi(MeteringSystem.EmitterToken).GetBudgetAsync($"e2e-unknown-{i}-{Guid.NewGuid():N}");
            Assert.Equal(BudgetStatuses.Ok, budget.Status);
            Assert.Empty(budget.Usage);
            Assert.Empty(budget.Limits);
        }
        // Grains of other tests may deactivate meanwhile; none may be added by these reads.
        Assert.InRange(await ActiveGrains(), 0, before);

        // A tenant it has seen (a quota) is read from its grain, as before.
        await PutQuota("alice", Limit(Meters.InputTokens, Periods.Day, 10, Enforcements.Throttle));
        var known = await WaitForBudget(b => b.Limits.Count == 1);
        Assert.Equal(10m, known.Limits.Single().Limit);
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition never held");
            await Task.Delay(100);
        }
    }
}
