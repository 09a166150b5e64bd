namespace Metering.EndToEndTests;

/// <summary>
/// Records no consumer can count, produced straight to Kafka (not through Ingest) between good ones, against the three
/// services as processes: neither consumer stops, every good event counts exactly once in the budget and on the
/// invoice, the bad records are on the dead-letter topic with their reason, and reconciliation counts each once.
/// </summary>
[Collection(MeteringSystemCollection.Name)]
public sealed class PoisonRecordTests(MeteringSystem system)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private readonly string _tenant = $"e2e-poison-{Guid.NewGuid():N}"[..40];

    private UsageEvent Usage(string id, decimal quantity, string? tenant = null, Dictionary<string, string>? attributes = null) =>
        new(id, tenant ?? _tenant, Meters.InputTokens, quantity, DateTimeOffset.UtcNow.AddSeconds(-1), "llama-4-70b", null, "chat-api", attributes);

    private async Task<T?> Get<T>(ServiceProcess target, string path) where T : class
    {
        using var response = await system.Http.SendAsync(system.Request(HttpMethod.Get, target, path, MeteringSystem.AdminToken));
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<T>(MeteringJson.Options);
    }

    private async Task<decimal> BudgetUsed(string tenant) =>
        (await Get<BudgetView>(system.Budgets, $"/v1/tenants/{tenant}/budget"))!.Usage.Where(u => u.Meter == Meters.InputTokens && u.Period == Periods.Month).Sum(u => u.Used);

    private async Task<decimal> Invoiced(string tenant) =>
        (await Get<InvoiceView>(system.Billing, $"/v1/invoices/{tenant}/{Month}"))?.Lines.Sum(l => l.Quantity) ?? 0;

    private async Task<ReconciliationCounts> Counts() => (await Get<ReconciliationView>(system.Billing, $"/v1/reconciliation/{Month}"))!.Counts;

    private async Task WaitFor(Func<Task<bool>> condition, Func<Task<string>> describe)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, await describe());
            await Task.Delay(200);
        }
    }

    private async Task ProduceAsync(string topic, params (string Key, byte[] Value)[] records)
    {
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig
        {
            BootstrapServers = system.KafkaBootstrapServers, EnableIdempotence = true, Acks = Acks.All,
        }).Build();
        foreach (var (key, value) in records)
            await producer.ProduceAsync(topic, new Message<string, byte[]> { Key = key, Value = value });
    }

    [Fact]
    public async Task Poison_records_between_good_ones_stop_neither_consumer_and_every_good_event_counts_once()
    {
        var before = await Counts();
        // Keyed by this tenant, so all of them land in one partition, in this order. The one with U+0000 in its
        // reservation id is valid by today's rules but PostgreSQL text cannot hold it, so Budgets' store refuses it (once
        // the rules reject U+0000 it is invalid for both consumers instead: dead-lettered either way). It names a tenant of
        // its own, so that this tenant's figures are the good events' whichever consumer counts it.
        var poisoned = $"e2e-poisoned-{Guid.NewGuid():N}"[..40];
        var invalid = UsageEventJson.Write(Usage("negative", -5));
        var unstorable = UsageEventJson.Write(Usage("nul", 1000, poisoned, new() { ["reservation_id"] = "res\0ervation" }));
        await ProduceAsync(KafkaTopics.Usage.Name,
            (_tenant, UsageEventJson.Write(Usage("g1", 100))),
            (_tenant, invalid),
            (_tenant, UsageEventJson.Write(Usage("g2", 20))),
            (_tenant, unstorable),
            (_tenant, UsageEventJson.Write(Usage("g3", 3))),
            (_tenant, UsageEventJson.Write(Usage("g1", 100))));

        // Every good event exactly once in both consumers (g1 was produced twice); the partition went on past the poison.
        await WaitFor(async () => await BudgetUsed(_tenant) == 123 && await Invoiced(_tenant) == 123,
            async () => $"budget {await BudgetUsed(_tenant)}, invoice {await Invoiced(_tenant)}; expected 123 in both");
        Assert.Equal(0, await BudgetUsed(poisoned));

        // And they keep going: an event sent through Ingest afterwards counts in both.
        using (var after = await system.Http.SendAsync(system.Request(HttpMethod.Post, system.Ingest, "/v1/usage", MeteringSystem.EmitterToken,
                   new StringContent(JsonSerializer.Serialize(new { events = new[] { Usage("after", 4000) } }, MeteringJson.Options), Encoding.UTF8, "application/json"))))
            Assert.Equal(HttpStatusCode.Accepted, after.StatusCode);
        await WaitFor(async () => await BudgetUsed(_tenant) == 4123 && await Invoiced(_tenant) == 4123,
            async () => $"budget {await BudgetUsed(_tenant)}, invoice {await Invoiced(_tenant)}; expected 4123 in both");

        // On the dead-letter topic with their reason: the invalid record from both groups, the unstorable one at least from Budgets.
        var letters = DeadLetters(atLeast: 3);
        Assert.Equal(
            [$"{system.BillingGroupId}: quantity must be between 0 and 1e12", $"{system.BudgetsGroupId}: quantity must be between 0 and 1e12"],
            letters.Where(l => l.Payload.SequenceEqual(invalid)).Select(l => $"{l.Group}: {l.Reason}").Order(StringComparer.Ordinal));
        var refused = letters.Where(l => l.Payload.SequenceEqual(unstorable)).ToList();
        Assert.Contains(refused, l => l.Group == system.BudgetsGroupId);
        Assert.All(refused, l => Assert.NotEmpty(l.Reason));
        Assert.Equal(letters.Count, letters.Count(l => l.Payload.SequenceEqual(invalid) || l.Payload.SequenceEqual(unstorable)));

        // Reconciliation counts each bad record once, however many groups dead-lettered it.
        await WaitFor(async () => (await Counts()).DeadLettered - before.DeadLettered >= 2, async () => $"dead letters counted: {(await Counts()).DeadLettered - before.DeadLettered}");
        await Task.Delay(TimeSpan.FromSeconds(2));
        var counts = await Counts();
        Assert.Equal(2, counts.DeadLettered - before.DeadLettered);
        Assert.Equal(2, counts.Rejected - before.Rejected + (counts.Refused - before.Refused));
    }

    [Fact]
    public async Task A_correction_record_Budgets_cannot_read_does_not_stop_the_voids_after_it()
    {
        using (var sent = await system.Http.SendAsync(system.Request(HttpMethod.Post, system.Ingest, "/v1/usage", MeteringSystem.EmitterToken,
                   new StringContent(JsonSerializer.Serialize(new { events = new[] { Usage("keep", 50), Usage("wrong", 100) } }, MeteringJson.Options),
                       Encoding.UTF8, "application/json"))))
            Assert.Equal(HttpStatusCode.Accepted, sent.StatusCode);
        await WaitFor(async () => await BudgetUsed(_tenant) == 150, async () => $"budget {await BudgetUsed(_tenant)}; expected 150");

        // Records Budgets cannot apply, keyed by this tenant so that they sit in front of its void.
        var nulId = JsonSerializer.SerializeToUtf8Bytes(new UsageVoided(_tenant, "wr\0ng", Meters.InputTokens, 100, DateOnly.FromDateTime(DateTime.UtcNow),
            "llama-4-70b", null, "test", DateTimeOffset.UtcNow), MeteringJson.Options);
        await ProduceAsync(KafkaTopics.UsageCorrections.Name,
            (_tenant, "garbage{"u8.ToArray()),
            (_tenant, [0xff, 0xfe]),
            (_tenant, """{"tenant":"Not A Tenant","usage_id":"x","meter":"input_tokens","quantity":1,"day":"2026-01-01"}"""u8.ToArray()),
            (_tenant, """{"tenant":42}"""u8.ToArray()),
            (_tenant, nulId));

        using (var voided = await system.Http.SendAsync(system.Request(HttpMethod.Post, system.Billing, $"/v1/usage/{_tenant}/wrong/void", MeteringSystem.AdminToken,
                   new StringContent("""{"reason":"sent twice"}""", Encoding.UTF8, "application/json"))))
            Assert.Equal(HttpStatusCode.OK, voided.StatusCode);
        await WaitFor(async () => await BudgetUsed(_tenant) == 50, async () => $"budget {await BudgetUsed(_tenant)}; expected 50 after the void");
    }

    /// <summary>The dead letters of this test's tenant, read until none more arrives for a moment.</summary>
    private List<(string Group, string Reason, byte[] Payload)> DeadLetters(int atLeast) =>
        KeyedRecords.Read(system.KafkaBootstrapServers, KafkaTopics.UsageDeadLetters.Name, _tenant, atLeast, quiet: TimeSpan.FromSeconds(2), Patience)
            .Select(m => (m.Header(DeadLetterHeaders.Group), m.Header(DeadLetterHeaders.Reason), m.Value)).ToList();
}
