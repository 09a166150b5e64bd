namespace Metering.EndToEndTests;

/// <summary>A usage event's whole path: HTTP → Ingest → Kafka → Budgets grain and Billing event store → REST.</summary>
[Collection(MeteringSystemCollection.Name)]
public sealed class UsageFlowTests(MeteringSystem system)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private readonly string _tenant = $"e2e-{Guid.NewGuid():N}";

    private UsageEvent Usage(string id, string meter, decimal quantity, string? model = null, string? gpu = null) =>
        new(id, _tenant, meter, quantity, DateTimeOffset.UtcNow.AddSeconds(-1), model, gpu, "chat-api",
            new Dictionary<string, string> { ["feature"] = "summarise" });

    private async Task<HttpResponseMessage> Post(string body, string? token = MeteringSystem.EmitterToken) =>
        await system.Http.SendAsync(system.Request(HttpMethod.Post, system.Ingest, "/v1/usage", token,
            new StringContent(body, Encoding.UTF8, "application/json")));

    private Task<HttpResponseMessage> Post(params UsageEvent[] events) =>
        Post(JsonSerializer.Serialize(new { events }, MeteringJson.Options));

    private async Task<T?> Get<T>(ServiceProcess target, string path) where T : class
    {
        using var response = await system.Http.SendAsync(system.Request(HttpMethod.Get, target, path, MeteringSystem.AdminToken));
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<T>(MeteringJson.Options);
    }

    private Task<BudgetView?> Budget() => Get<BudgetView>(system.Budgets, $"/v1/tenants/{_tenant}/budget");
    private Task<InvoiceView?> Invoice() => Get<InvoiceView>(system.Billing, $"/v1/invoices/{_tenant}/{Month}");

    private static string Describe(BudgetView? budget) =>
        budget is null ? "-" : string.Join(";", budget.Usage.OrderBy(u => u.Meter).ThenBy(u => u.Period).Select(u => $"{u.Meter}/{u.Period}={u.Used}"));

    private static string Describe(InvoiceView? invoice) =>
        invoice is null ? "-" : string.Join(";", invoice.Lines.Select(l => $"{l.Meter}/{l.Model ?? l.GpuType}={l.Quantity}"));

    /// <summary>Polls until both read models show exactly the expected figures, then returns them; fails with what was last seen.</summary>
    private async Task WaitForUsage(string expectedBudget, string expectedInvoice)
    {
        string budget = "", invoice = "";
        var deadline = DateTime.UtcNow + Patience;
        while (DateTime.UtcNow < deadline)
        {
            budget = Describe(await Budget());
            invoice = Describe(await Invoice());
            if (budget == expectedBudget && invoice == expectedInvoice) return;
            await Task.Delay(100);
        }
        Assert.Equal(expectedBudget, budget);
        Assert.Equal(expectedInvoice, invoice);
    }

    [Fact]
    public async Task Three_valid_events_are_accepted_and_show_exactly_in_budget_and_invoice()
    {
        using var response = await Post(
            Usage("e1", Meters.OutputTokens, 1234, model: "llama-4-70b"),
            Usage("e2", Meters.InputTokens, 500, model: "llama-4-70b"),
            Usage("e3", Meters.GpuSeconds, 12.5m, gpu: "h100"));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(3, (await response.Content.ReadFromJsonAsync<UsageAccepted>(MeteringJson.Options))!.Accepted);
        await WaitForUsage(
            "gpu_seconds/day=12.5;gpu_seconds/month=12.5;input_tokens/day=500;input_tokens/month=500;output_tokens/day=1234;output_tokens/month=1234",
            "gpu_seconds/h100=12.5;input_tokens/llama-4-70b=500;output_tokens/llama-4-70b=1234");

        var invoice = (await Invoice())!;
        Assert.Equal((_tenant, Month, "draft", "USD"), (invoice.Tenant, invoice.Period, invoice.Status, invoice.Currency));
        var budget = (await Budget())!;
        Assert.Equal((_tenant, BudgetStatuses.Ok), (budget.Tenant, budget.Status));
    }

    [Fact]
    public async Task One_invalid_event_rejects_the_whole_request_naming_its_index_and_field()
    {
        using var rejected = await Post(
            Usage("a", Meters.InputTokens, 100, model: "m"),
            Usage("b", Meters.InputTokens, -1, model: "m"),
            Usage("c", Meters.InputTokens, 200, model: "m"));

        Assert.Equal(HttpStatusCode.BadRequest, rejected.StatusCode);
        Assert.Equal("application/problem+json", rejected.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await rejected.Content.ReadAsStringAsync());
        Assert.Equal(["events[1].quantity"], problem.RootElement.GetProperty("errors").EnumerateObject().Select(p => p.Name));

        // A later event of the same tenant arrives; when it is visible, anything of the rejected request would be too.
        using var marker = await Post(Usage("d", Meters.InputTokens, 7, model: "m"));
        Assert.Equal(HttpStatusCode.Accepted, marker.StatusCode);
        await WaitForUsage("input_tokens/day=7;input_tokens/month=7", "input_tokens/m=7");
    }

    [Fact]
    public async Task The_same_request_sent_twice_is_counted_once()
    {
        var events = new[] { Usage("x1", Meters.CachedInputTokens, 40, model: "m"), Usage("x2", Meters.CachedInputTokens, 2, model: "m") };
        for (var i = 0; i < 2; i++)
        {
            using var response = await Post(events);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }
        using var marker = await Post(Usage("x3", Meters.CachedInputTokens, 1, model: "m"));
        await WaitForUsage("cached_input_tokens/day=43;cached_input_tokens/month=43", "cached_input_tokens/m=43");
    }

    [Fact]
    public async Task A_record_that_is_not_a_usage_event_does_not_block_its_partition()
    {
        // Someone produces garbage straight to the usage topic, keyed by this tenant: it lands in the tenant's partition.
        using (var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig
               {
                   BootstrapServers = system.KafkaBootstrapServers, EnableIdempotence = true, Acks = Acks.All,
               }).Build())
        {
            await producer.ProduceAsync(KafkaTopics.Usage.Name, new Message<string, byte[]> { Key = _tenant, Value = "garbage{"u8.ToArray() });
            await producer.ProduceAsync(KafkaTopics.Usage.Name, new Message<string, byte[]>
            {
                Key = _tenant,
                Value = JsonSerializer.SerializeToUtf8Bytes(Usage("neg", Meters.InputTokens, -5, model: "m"), MeteringJson.Options),
            });
        }

        using var after = await Post(Usage("after", Meters.OutputTokens, 9, model: "m"));
        Assert.Equal(HttpStatusCode.Accepted, after.StatusCode);
        await WaitForUsage("output_tokens/day=9;output_tokens/month=9", "output_tokens/m=9");

        // Both bad records are on the dead-letter topic with their reason, once from each consumer group (neither counts them).
        using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
        {
            BootstrapServers = system.KafkaBootstrapServers, GroupId = $"e2e-{Guid.NewGuid()}", EnableAutoCommit = false,
        }).Build();
        consumer.Assign(new TopicPartitionOffset(KafkaTopics.UsageDeadLetters.Name, 0, Offset.Beginning));
        var letters = new List<string>();
        var deadline = DateTime.UtcNow + Patience;
        while (letters.Count < 4 && DateTime.UtcNow < deadline)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(500)) is { } record && record.Message.Key == _tenant)
                letters.Add(Letter(record));
        }
        while (consumer.Consume(TimeSpan.FromSeconds(1)) is { } extra)
            if (extra.Message.Key == _tenant) letters.Add("duplicate: " + Letter(extra));
        var (budgets, billing) = (system.BudgetsGroupId, system.BillingGroupId);
        Assert.Collection(letters.Order(StringComparer.Ordinal),
            r => Assert.StartsWith($"{billing} $ is not valid JSON", r),
            r => Assert.Equal($"{billing} quantity must be between 0 and 1e12", r),
            r => Assert.StartsWith($"{budgets} $ is not valid JSON", r),
            r => Assert.Equal($"{budgets} quantity must be between 0 and 1e12", r));

        static string Letter(ConsumeResult<string, byte[]> record) =>
            Encoding.UTF8.GetString(record.Message.Headers.GetLastBytes("metering-dead-letter-group")) + " " +
            Encoding.UTF8.GetString(record.Message.Headers.GetLastBytes("metering-dead-letter-reason"));
    }

    [Fact]
    public async Task Requests_without_a_valid_token_or_role_are_refused()
    {
        var body = JsonSerializer.Serialize(new { events = new[] { Usage("t", Meters.InputTokens, 1, model: "m") } }, MeteringJson.Options);
        using (var none = await Post(body, token: null)) Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        using (var wrong = await Post(body, token: "not-a-token")) Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);

        using var emitterReadsInvoice = await system.Http.SendAsync(
            system.Request(HttpMethod.Get, system.Billing, $"/v1/invoices/{_tenant}/{Month}", MeteringSystem.EmitterToken));
        Assert.Equal(HttpStatusCode.Forbidden, emitterReadsInvoice.StatusCode);
        Assert.Equal("application/problem+json", emitterReadsInvoice.Content.Headers.ContentType?.MediaType);

        using var anonymousBudget = await system.Http.SendAsync(system.Request(HttpMethod.Get, system.Budgets, $"/v1/tenants/{_tenant}/budget", null));
        Assert.Equal(HttpStatusCode.Unauthorized, anonymousBudget.StatusCode);
        using var emitterBudget = await system.Http.SendAsync(
            system.Request(HttpMethod.Get, system.Budgets, $"/v1/tenants/{_tenant}/budget", MeteringSystem.EmitterToken));
        Assert.Equal(HttpStatusCode.OK, emitterBudget.StatusCode);
    }

    [Fact]
    public async Task Bad_tenants_and_periods_are_400_and_unknown_ones_are_empty_or_404()
    {
        using var badTenant = await system.Http.SendAsync(system.Request(HttpMethod.Get, system.Budgets, "/v1/tenants/Not_Valid/budget", MeteringSystem.AdminToken));
        Assert.Equal(HttpStatusCode.BadRequest, badTenant.StatusCode);
        using var badPeriod = await system.Http.SendAsync(system.Request(HttpMethod.Get, system.Billing, $"/v1/invoices/{_tenant}/2026-13", MeteringSystem.AdminToken));
        Assert.Equal(HttpStatusCode.BadRequest, badPeriod.StatusCode);

        var budget = await Budget();
        Assert.Equal((BudgetStatuses.Ok, 0, 0), (budget!.Status, budget.Usage.Count, budget.Limits.Count));
        Assert.Null(await Invoice());
    }

    [Fact]
    public async Task Every_service_answers_ready()
    {
        foreach (var service in new[] { system.Ingest, system.Budgets, system.Billing })
        {
            using var response = await system.Http.GetAsync(new Uri(service.Url, "/healthz/ready"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    [Fact]
    public async Task One_posted_event_makes_one_trace_through_Ingest_Kafka_Budgets_and_Billing_and_the_metrics_arrive()
    {
        var telemetry = system.Telemetry!;
        var traceId = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());
        var callerSpan = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()[..8]);
        using var request = system.Request(HttpMethod.Post, system.Ingest, "/v1/usage", MeteringSystem.EmitterToken,
            new StringContent(JsonSerializer.Serialize(new { events = new[] { Usage("traced", Meters.InputTokens, 42, model: "m") } }, MeteringJson.Options),
                Encoding.UTF8, "application/json"));
        request.Headers.Add("traceparent", $"00-{traceId}-{callerSpan}-01");
        using (var response = await system.Http.SendAsync(request)) Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

        const int server = 2, consumer = 5;
        List<ReceivedSpan> trace = [];
        var deadline = DateTime.UtcNow + Patience;
        // Each service exports its spans on its own schedule: wait for all three, not for whichever arrive first.
        while (DateTime.UtcNow < deadline)
        {
            trace = telemetry.Spans.Where(s => s.TraceId == traceId).ToList();
            if (trace.Any(s => s.Service == "metering-ingest" && s.Kind == server) && trace.Any(s => s.Service == "metering-budgets" && s.Kind == consumer) &&
                trace.Any(s => s.Service == "metering-billing" && s.Kind == consumer)) break;
            await Task.Delay(200);
        }

        var ingest = Assert.Single(trace, s => s.Service == "metering-ingest" && s.Kind == server);
        Assert.Equal(callerSpan, ingest.ParentSpanId);
        var budgets = Assert.Single(trace, s => s.Service == "metering-budgets" && s.Kind == consumer);
        var billing = Assert.Single(trace, s => s.Service == "metering-billing" && s.Kind == consumer);
        // Both consumers continue the trace from the span that produced the record.
        Assert.Equal(ingest.SpanId, budgets.ParentSpanId);
        Assert.Equal(ingest.SpanId, billing.ParentSpanId);
        Assert.Equal(("usage apply budgets", "usage record billing"), (budgets.Name, billing.Name));

        string[] expected = ["metering.ingest.events.accepted", "metering.budgets.usage.applied", "metering.billing.usage.recorded"];
        while (DateTime.UtcNow < deadline && !expected.All(telemetry.Metrics.ContainsKey)) await Task.Delay(200);
        Assert.Equal(
            ["metering-ingest", "metering-budgets", "metering-billing"],
            expected.Select(name => telemetry.Metrics.TryGetValue(name, out var services) ? string.Join(",", services.Keys) : "none"));
    }
}
