namespace Metering.EndToEndTests;

/// <summary>
/// Events Ingest refuses with 400 never reach the usage topic; reconciliation still counts each invalid one, in the
/// month of its timestamp. The month is 2001-02, which no other test uses.
/// </summary>
[Collection(MeteringSystemCollection.Name)]
public sealed class IngestRejectTests(MeteringSystem system)
{
    private const string Period = "2001-02";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(45);

    [Fact]
    public async Task Reconciliation_counts_every_event_ingest_refused_in_the_month_of_its_timestamp()
    {
        var before = await Counts();
        var tenant = "rejects-" + Guid.NewGuid().ToString("N")[..8];
        var body = JsonSerializer.Serialize(new
        {
            events = new object[]
            {
                new { id = "old", tenant, meter = "output_tokens", quantity = 10, timestamp = "2001-02-03T10:00:00Z", model = "m" },
                new { id = "negative", tenant, meter = "output_tokens", quantity = -1, timestamp = "2001-02-04T10:00:00Z", model = "m" },
                new { id = "fine", tenant, meter = "output_tokens", quantity = 10, timestamp = DateTimeOffset.UtcNow.ToString("O"), model = "m" },
            },
        });
        using (var response = await system.Http.SendAsync(system.Request(HttpMethod.Post, system.Ingest, "/v1/usage", MeteringSystem.EmitterToken,
                   new StringContent(body, Encoding.UTF8, "application/json"))))
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);

        // The two invalid events count as rejected in 2001-02; the valid one was refused with them but broke no rule.
        var deadline = DateTime.UtcNow + Patience;
        var after = await Counts();
        while (after.Rejected < before.Rejected + 2 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250);
            after = await Counts();
        }
        Assert.Equal((before.Rejected + 2, before.DeadLettered, before.Accepted), (after.Rejected, after.DeadLettered, after.Accepted));
    }

    private async Task<ReconciliationCounts> Counts()
    {
        using var response = await system.Http.SendAsync(system.Request(HttpMethod.Get, system.Billing, $"/v1/reconciliation/{Period}", MeteringSystem.AdminToken));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonSerializer.Deserialize<ReconciliationView>(await response.Content.ReadAsStringAsync(), MeteringJson.Options)!.Counts;
    }
}
