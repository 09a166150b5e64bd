using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Metering.Contracts;
using Metering.Contracts.Billing;
using Metering.Contracts.Usage;

namespace Metering.EndToEndTests;

/// <summary>Finalizing invoices and what happens to usage that arrives for a finalized month.</summary>
[Collection(MeteringSystemCollection.Name)]
public sealed class InvoiceTests(MeteringSystem system)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private readonly string _tenant = $"e2e-invoice-{Guid.NewGuid():N}"[..40];
    private static string Month => DateTime.UtcNow.ToString("yyyy-MM");
    private static string NextMonth => DateTime.UtcNow.AddMonths(1).ToString("yyyy-MM");

    private async Task Use(string id, decimal quantity)
    {
        var usage = new UsageEvent(id, _tenant, Meters.OutputTokens, quantity, DateTimeOffset.UtcNow.AddSeconds(-1), "m");
        using var response = await system.Http.SendAsync(system.Request(HttpMethod.Post, system.Ingest, "/v1/usage", MeteringSystem.EmitterToken,
            new StringContent(JsonSerializer.Serialize(new { events = new[] { usage } }, MeteringJson.Options), Encoding.UTF8, "application/json")));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    private async Task<(HttpStatusCode Status, InvoiceView? Invoice)> Send(HttpMethod method, string path, string? token = MeteringSystem.AdminToken)
    {
        using var response = await system.Http.SendAsync(system.Request(method, system.Billing, path, token));
        return (response.StatusCode, response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<InvoiceView>(MeteringJson.Options) : null);
    }

    private async Task<InvoiceView> WaitForInvoice(string month, Func<InvoiceView, bool> done)
    {
        InvoiceView? invoice = null;
        var deadline = DateTime.UtcNow + Patience;
        while (DateTime.UtcNow < deadline)
        {
            invoice = (await Send(HttpMethod.Get, $"/v1/invoices/{_tenant}/{month}")).Invoice;
            if (invoice is not null && done(invoice)) return invoice;
            await Task.Delay(100);
        }
        Assert.Fail($"invoice {month} never reached the expected state; last: {JsonSerializer.Serialize(invoice, MeteringJson.Options)}");
        return invoice!;
    }

    [Fact]
    public async Task A_finalized_invoice_is_frozen_and_late_usage_becomes_an_adjustment_on_the_next_open_invoice()
    {
        await Use("before", 1000);
        await WaitForInvoice(Month, i => i.Lines.Sum(l => l.Quantity) == 1000);

        var (status, finalized) = await Send(HttpMethod.Post, $"/v1/invoices/{_tenant}/{Month}/finalize");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(InvoiceStatuses.Finalized, finalized!.Status);
        Assert.Equal(HttpStatusCode.Conflict, (await Send(HttpMethod.Post, $"/v1/invoices/{_tenant}/{Month}/finalize")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Send(HttpMethod.Post, $"/v1/invoices/{_tenant}-none/{Month}/finalize")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await Send(HttpMethod.Post, $"/v1/invoices/{_tenant}/{Month}/finalize", MeteringSystem.EmitterToken)).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await Send(HttpMethod.Post, $"/v1/invoices/{_tenant}/2026-13/finalize")).Status);

        // Late usage for the finalized month, sent twice: counted once, on next month's invoice.
        await Use("late", 250);
        await Use("late", 250);
        var next = await WaitForInvoice(NextMonth, i => i.Lines.Any(l => l.AdjustmentFor == Month));
        var adjustment = Assert.Single(next.Lines);
        Assert.Equal((Meters.OutputTokens, "m", 250m, Month), (adjustment.Meter, adjustment.Model, adjustment.Quantity, adjustment.AdjustmentFor));
        Assert.Equal(InvoiceStatuses.Draft, next.Status);

        var frozen = (await Send(HttpMethod.Get, $"/v1/invoices/{_tenant}/{Month}")).Invoice!;
        Assert.Equal(InvoiceStatuses.Finalized, frozen.Status);
        Assert.Equal(JsonSerializer.Serialize(finalized, MeteringJson.Options), JsonSerializer.Serialize(frozen, MeteringJson.Options));
    }

    private async Task<HttpStatusCode> Void(string id, object body, string? token = MeteringSystem.AdminToken)
    {
        using var response = await system.Http.SendAsync(system.Request(HttpMethod.Post, system.Billing, $"/v1/usage/{_tenant}/{id}/void", token,
            new StringContent(JsonSerializer.Serialize(body, MeteringJson.Options), Encoding.UTF8, "application/json")));
        return response.StatusCode;
    }

    private async Task<decimal> BudgetMonthUsed()
    {
        using var response = await system.Http.SendAsync(system.Request(HttpMethod.Get, system.Budgets, $"/v1/tenants/{_tenant}/budget", MeteringSystem.AdminToken));
        var budget = await response.Content.ReadFromJsonAsync<Metering.Contracts.Budgets.BudgetView>(MeteringJson.Options);
        return budget!.Usage.Where(u => u.Meter == Meters.OutputTokens && u.Period == "month").Sum(u => u.Used);
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
