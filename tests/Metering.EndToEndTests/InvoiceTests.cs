namespace Metering.EndToEndTests;

/// <summary>Finalizing invoices and what happens to usage that arrives for a finalized month.</summary>
[Collection(MeteringSystemCollection.Name)]
public sealed class InvoiceTests(MeteringSystem system)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private readonly string _tenant = $"e2e-invoice-{Guid.NewGuid():N}"[..40];

    private Task Use(string id, decimal quantity) => Use(id, quantity, "m", DateTimeOffset.UtcNow.AddSeconds(-1));

    private async Task Use(string id, decimal quantity, string model, DateTimeOffset timestamp) =>
        Assert.Equal(1, (await system.IngestApi().SendUsageAsync([new UsageEvent(id, _tenant, Meters.OutputTokens, quantity, timestamp, model)])).Accepted);

    private Task<InvoiceView?> Invoice(string month) => system.BillingApi().GetInvoiceAsync(_tenant, month);

    /// <summary>What a finalize of the current month with usage no test prices needs.</summary>
    private static readonly object Anyway = new { force = true, allow_unpriced = true };

    private async Task<(HttpStatusCode Status, InvoiceView? Invoice)> Send(HttpMethod method, string path, string? token = MeteringSystem.AdminToken,
        object? body = null)
    {
        using var response = await SendRaw(method, path, token, body);
        return (response.StatusCode, response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<InvoiceView>(MeteringJson.Options) : null);
    }

    private Task<HttpResponseMessage> SendRaw(HttpMethod method, string path, string? token = MeteringSystem.AdminToken, object? body = null) =>
        system.Http.SendAsync(system.Request(method, system.Billing, path, token,
            body is null ? null : new StringContent(body as string ?? JsonSerializer.Serialize(body, MeteringJson.Options), Encoding.UTF8, "application/json")));

    private async Task<InvoiceView> WaitForInvoice(string month, Func<InvoiceView, bool> done)
    {
        InvoiceView? invoice = null;
        var deadline = DateTime.UtcNow + Patience;
        while (DateTime.UtcNow < deadline)
        {
            invoice = await Invoice(month);
            if (invoice is not null && done(invoice)) return invoice;
            await Task.Delay(100);
        }
        Assert.Fail($"invoice {month} never reached the expected state; last: {JsonSerializer.Serialize(invoice, MeteringJson.Options)}");
        return invoice!;
    }

    [Fact]
    public async Task A_finalized_invoice_is_frozen_and_late_usage_becomes_an_adjustment_on_the_next_open_invoice()
    {
        // Priced, so that the month needs only force (unpriced usage would be carried to the next month too).
        var model = $"priced-{Guid.NewGuid():N}"[..24];
        await AddPrice(DateTime.UtcNow.ToString("yyyy-MM-dd"), model, "2.40");
        var now = DateTimeOffset.UtcNow.AddSeconds(-1);
        await Use("before", 1000, model, now);
        await WaitForInvoice(Month, i => i.Lines.Sum(l => l.Quantity) == 1000);

        var finalized = await system.BillingApi().FinalizeAsync(_tenant, Month, force: true);
        Assert.Equal(InvoiceStatuses.Finalized, finalized.Status);
        Assert.Equal(HttpStatusCode.Conflict, (await Send(HttpMethod.Post, $"/v1/invoices/{_tenant}/{Month}/finalize", body: Anyway)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Send(HttpMethod.Post, $"/v1/invoices/{_tenant}-none/{Month}/finalize", body: Anyway)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await Send(HttpMethod.Post, $"/v1/invoices/{_tenant}/{Month}/finalize", MeteringSystem.EmitterToken, Anyway)).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await Send(HttpMethod.Post, $"/v1/invoices/{_tenant}/2026-13/finalize", body: Anyway)).Status);

        // Late usage for the finalized month, sent twice: counted once, on next month's invoice.
        await Use("late", 250, model, now);
        await Use("late", 250, model, now);
        var next = await WaitForInvoice(NextMonth, i => i.Lines.Any(l => l.AdjustmentFor == Month));
        var adjustment = Assert.Single(next.Lines);
        Assert.Equal((Meters.OutputTokens, model, 250m, Month), (adjustment.Meter, adjustment.Model, adjustment.Quantity, adjustment.AdjustmentFor));
        Assert.Equal(InvoiceStatuses.Draft, next.Status);

        var frozen = (await Invoice(Month))!;
        Assert.Equal(InvoiceStatuses.Finalized, frozen.Status);
        Assert.Equal(JsonSerializer.Serialize(finalized, MeteringJson.Options), JsonSerializer.Serialize(frozen, MeteringJson.Options));
    }

    private async Task<JsonElement> Problem(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
    }

    [Fact]
    public async Task Finalize_refuses_a_month_that_has_not_ended_or_holds_unpriced_usage_unless_told_and_reads_its_flags_strictly()
    {
        // A model no rate-card version prices, on the last day of last month (ended) and now (not ended).
        var model = $"unpriced-{Guid.NewGuid():N}"[..24];
        var monthStart = new DateTimeOffset(DateTime.UtcNow.Year, DateTime.UtcNow.Month, 1, 0, 0, 0, TimeSpan.Zero);
        var lastMonth = monthStart.AddMonths(-1).ToString("yyyy-MM");
        await Use("ended", 3_000_000, model, monthStart.AddHours(-1));
        await Use("current", 400, model, DateTimeOffset.UtcNow.AddSeconds(-1));
        await WaitForInvoice(lastMonth, i => i.Lines.Sum(l => l.Quantity) == 3_000_000);
        await WaitForInvoice(Month, i => i.Lines.Sum(l => l.Quantity) == 400);

        // The current month: not ended, with or without a body, whatever else is allowed.
        foreach (var body in new object?[] { null, new { }, new { allow_unpriced = true }, new { force = false, allow_unpriced = true } })
        {
            using var response = await SendRaw(HttpMethod.Post, $"/v1/invoices/{_tenant}/{Month}/finalize", body: body);
            Assert.Contains("not ended", (await Problem(response, HttpStatusCode.Conflict)).GetProperty("detail").GetString());
        }
        // Flags are booleans; a body that is not JSON is refused as such.
        foreach (var (body, field) in new[] { ("""{"force":"true"}""", "force"), ("""{"allow_unpriced":1}""", "allow_unpriced"), ("{", "$"), ("[]", "$") })
        {
            using var response = await SendRaw(HttpMethod.Post, $"/v1/invoices/{_tenant}/{Month}/finalize", body: body);
            Assert.True((await Problem(response, HttpStatusCode.BadRequest)).GetProperty("errors").TryGetProperty(field, out _), body);
        }
        // Forced, the month is refused for its unpriced usage, named line by line; an ended month needs no force.
        foreach (var (month, flags, quantity) in new[] { (Month, (object)new { force = true }, 400m), (lastMonth, null, 3_000_000m) })
        {
            using var response = await SendRaw(HttpMethod.Post, $"/v1/invoices/{_tenant}/{month}/finalize", body: flags);
            var unpriced = Assert.Single((await Problem(response, HttpStatusCode.Conflict)).GetProperty("unpriced").EnumerateArray());
            Assert.Equal((Meters.OutputTokens, model, quantity),
                (unpriced.GetProperty("meter").GetString(), unpriced.GetProperty("model").GetString(), unpriced.GetProperty("quantity").GetDecimal()));
        }
        Assert.Equal(InvoiceStatuses.Draft, (await Invoice(Month))!.Status);
        Assert.Equal(InvoiceStatuses.Draft, (await Invoice(lastMonth))!.Status);

        var frozen = await system.BillingApi().FinalizeAsync(_tenant, lastMonth, allowUnpriced: true);
        Assert.Equal((InvoiceStatuses.Finalized, "0.00"), (frozen.Status, frozen.Total));

        // Frozen unbilled, the usage is carried to the next open month, where a version that prices its day bills it, once.
        var carried = Assert.Single((await WaitForInvoice(Month, i => i.Lines.Any(l => l.AdjustmentFor == lastMonth))).Lines, l => l.AdjustmentFor == lastMonth);
        Assert.Equal((model, 3_000_000m, (string?)null), (carried.Model, carried.Quantity, carried.UnitPrice));
        var lastDay = monthStart.AddDays(-1).ToString("yyyy-MM-dd");
        for (var version = 0; version < 2; version++)
            await AddPrice(lastDay, model, "2.00");
        var billed = Assert.Single((await WaitForInvoice(Month, i => i.Lines.Any(l => l.AdjustmentFor == lastMonth && l.UnitPrice is not null))).Lines,
            l => l.AdjustmentFor == lastMonth);
        Assert.Equal((3_000_000m, "2.00", "6.00"), (billed.Quantity, billed.UnitPrice, billed.Amount));
        Assert.Equal(frozen.Total, (await Invoice(lastMonth))!.Total);

        // This month freezes it billed: it is not carried on again to the next month (whatever of this month's own is).
        var thisMonth = await system.BillingApi().FinalizeAsync(_tenant, Month, force: true, allowUnpriced: true);
        Assert.Single(thisMonth.Lines, l => l.AdjustmentFor == lastMonth && l.Amount == "6.00");
        var (nextStatus, next) = await Send(HttpMethod.Get, $"/v1/invoices/{_tenant}/{NextMonth}");
        Assert.True(nextStatus == HttpStatusCode.NotFound || next!.Lines.All(l => l.AdjustmentFor == Month), $"{nextStatus}");
    }

    private Task AddPrice(string day, string model, string price) => new BillingRequests(system).AddPrice(model, day, price);

    private async Task<HttpStatusCode> Void(string id, object body, string? token = MeteringSystem.AdminToken)
    {
        using var response = await system.Http.SendAsync(system.Request(HttpMethod.Post, system.Billing, $"/v1/usage/{_tenant}/{id}/void", token,
            new StringContent(JsonSerializer.Serialize(body, MeteringJson.Options), Encoding.UTF8, "application/json")));
        return response.StatusCode;
    }

    private async Task<decimal> BudgetMonthUsed()
    {
        var budget = await system.BudgetsApi().GetBudgetAsync(_tenant);
        return budget.Usage.Where(u => u.Meter == Meters.OutputTokens && u.Period == "month").Sum(u => u.Used);
    }

    [Fact]
    public async Task Voided_usage_stops_counting_on_the_invoice_and_in_the_budget_and_cannot_be_voided_twice()
    {
        await Use("keep", 50);
        await Use("wrong", 100);
        await WaitForInvoice(Month, i => i.Lines.Sum(l => l.Quantity) == 150);

        Assert.Equal(HttpStatusCode.BadRequest, await Void("wrong", new { }));
        Assert.Equal(HttpStatusCode.Forbidden, await Void("wrong", new { reason = "duplicate request" }, MeteringSystem.EmitterToken));
        Assert.Equal(HttpStatusCode.NotFound, await Void("never-sent", new { reason = "duplicate request" }));
        Assert.Equal(HttpStatusCode.OK, await Void("wrong", new { reason = "duplicate request" }));
        Assert.Equal(HttpStatusCode.Conflict, await Void("wrong", new { reason = "again" }));

        var invoice = await WaitForInvoice(Month, i => i.Lines.Sum(l => l.Quantity) == 50);
        Assert.Equal(50, Assert.Single(invoice.Lines).Quantity);
        var deadline = DateTime.UtcNow + Patience;
        while (await BudgetMonthUsed() != 50 && DateTime.UtcNow < deadline) await Task.Delay(100);
        Assert.Equal(50, await BudgetMonthUsed());

        // The line is explained by its events: the voided one appears twice, once negative with the reason.
        using (var explained = await system.Http.SendAsync(system.Request(HttpMethod.Get, system.Billing,
                   $"/v1/invoices/{_tenant}/{Month}/usage?meter=output_tokens&model=m", MeteringSystem.AdminToken)))
        {
            var usage = JsonDocument.Parse(await explained.Content.ReadAsStringAsync()).RootElement.GetProperty("usage").EnumerateArray()
                .Select(u => (u.GetProperty("id").GetString(), u.GetProperty("quantity").GetDecimal(), u.TryGetProperty("void_reason", out var r) ? r.GetString() : null))
                .OrderBy(u => u.Item1).ThenBy(u => u.Item2).ToList();
            Assert.Equal([("keep", 50m, null), ("wrong", -100m, "duplicate request"), ("wrong", 100m, null)], usage);
        }

        // Re-sending the voided event does not bring it back.
        await Use("wrong", 100);
        await Use("marker", 1);
        await WaitForInvoice(Month, i => i.Lines.Sum(l => l.Quantity) == 51);
    }
}
