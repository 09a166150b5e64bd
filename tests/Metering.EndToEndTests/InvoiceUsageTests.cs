namespace Metering.EndToEndTests;

/// <summary>
/// <c>GET /v1/invoices/{tenant}/{period}/usage</c>: read like the invoice it explains (admins, viewers of the tenant's
/// team or a team above it), and paged and filtered in the database: pages put together are exactly the whole listing.
/// </summary>
[Collection(MeteringSystemCollection.Name)]
public sealed class InvoiceUsageTests(MeteringSystem system)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private readonly string _tenant = $"e2e-listing-{Guid.NewGuid():N}"[..40];

    private readonly BillingRequests _requests = new(system);

    private Task<(HttpStatusCode Status, string Body)> Send(HttpMethod method, ServiceProcess service, string path, string token, object? body = null) =>
        _requests.Send(method, path, token, body, service);

    private async Task<(HttpStatusCode Status, List<Row> Rows)> Listing(string query, string token = MeteringSystem.AdminToken)
    {
        var (status, body) = await Send(HttpMethod.Get, system.Billing, $"/v1/invoices/{_tenant}/{Month}/usage{query}", token);
        if (status != HttpStatusCode.OK) return (status, []);
        var rows = JsonDocument.Parse(body).RootElement.GetProperty("usage").EnumerateArray()
            .Select(u => new Row(u.GetProperty("id").GetString()!, u.GetProperty("meter").GetString()!, u.GetProperty("quantity").GetDecimal(),
                u.TryGetProperty("void_reason", out var reason) ? reason.GetString() : null))
            .ToList();
        return (status, rows);
    }

    private sealed record Row(string Id, string Meter, decimal Quantity, string? VoidReason);

    private async Task WaitForRows(int count)
    {
        var deadline = DateTime.UtcNow + Patience;
        while ((await Listing("")).Rows.Count < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the listing never reached {count} rows");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task The_usage_behind_an_invoice_is_scoped_like_the_invoice_and_paged_in_the_database()
    {
        await _requests.Admin(HttpMethod.Put, $"/v1/teams/{Research}", new { name = "Research", cost_center = "CC-100" });
        await _requests.Admin(HttpMethod.Put, $"/v1/teams/{Vision}", new { name = "Vision", cost_center = "CC-120", parent = Research });
        await _requests.Admin(HttpMethod.Put, $"/v1/tenants/{_tenant}/team", new { team = Vision });

        var at = DateTimeOffset.UtcNow.AddSeconds(-1);
        var events = Enumerable.Range(1, 20).Select(i => new UsageEvent($"t{i:00}", _tenant, Meters.OutputTokens, i, at, "m"))
            .Concat(Enumerable.Range(1, 5).Select(i => new UsageEvent($"g{i}", _tenant, Meters.GpuSeconds, i * 1.5m, at, GpuType: "h100")))
            .ToList();
        var (posted, _) = await Send(HttpMethod.Post, system.Ingest, "/v1/usage", MeteringSystem.EmitterToken, new { events });
        Assert.Equal(HttpStatusCode.Accepted, posted);
        await WaitForRows(events.Count);
        await _requests.Admin(HttpMethod.Post, $"/v1/usage/{_tenant}/t03/void", new { reason = "sent by mistake" });
        await WaitForRows(events.Count + 1);

        var (_, all) = await Listing("?limit=1000");
        Assert.Equal(events.Select(e => new Row(e.Id, e.Meter, e.Quantity, null)).Append(new Row("t03", Meters.OutputTokens, -3, "sent by mistake"))
            .OrderBy(r => r.Id).ThenBy(r => r.Quantity), all.OrderBy(r => r.Id).ThenBy(r => r.Quantity));

        // Pages of 7 put together are the whole listing, in its order; past the end is empty.
        var paged = new List<Row>();
        for (var offset = 0; offset < all.Count; offset += 7) paged.AddRange((await Listing($"?offset={offset}&limit=7")).Rows);
        Assert.Equal(all, paged);
        Assert.Empty((await Listing($"?offset={all.Count}&limit=7")).Rows);

        // Filters apply before paging.
        var gpu = (await Listing("?meter=gpu_seconds&gpu_type=h100")).Rows;
        Assert.Equal(all.Where(r => r.Meter == Meters.GpuSeconds), gpu);
        var tokens = (await Listing("?meter=output_tokens&model=m")).Rows;
        Assert.Equal(21, tokens.Count);
        Assert.Equal(tokens.Skip(5).Take(3), (await Listing("?meter=output_tokens&model=m&offset=5&limit=3")).Rows);
        Assert.Empty((await Listing("?model=other")).Rows);
        Assert.Empty((await Listing("?gpu_type=m")).Rows);

        // Scoped like the invoice: the tenant's team and the team above it read it, another team does not.
        foreach (var team in new[] { Vision, Research })
        {
            var (status, rows) = await Listing("?limit=1000", MeteringSystem.ViewerTokens[team]);
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal(all, rows);
        }
        Assert.Equal(HttpStatusCode.Forbidden, (await Listing("", MeteringSystem.ViewerTokens[Nlp])).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await Listing("", MeteringSystem.EmitterToken)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await Send(HttpMethod.Get, system.Billing, $"/v1/invoices/{_tenant}/{Month}", MeteringSystem.ViewerTokens[Nlp])).Status);
    }
}
