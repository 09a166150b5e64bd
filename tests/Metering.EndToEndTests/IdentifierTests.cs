namespace Metering.EndToEndTests;

/// <summary>
/// Identifiers at the edges of their rules, through the running services: ids that hold '/', names that end in a line
/// break, authorize requests that leave out what usage must name, and team names a spreadsheet would run.
/// </summary>
[Collection(MeteringSystemCollection.Name)]
public sealed class IdentifierTests(MeteringSystem system)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private readonly string _tenant = $"e2e-ids-{Guid.NewGuid():N}"[..32];

    private readonly BillingRequests _requests = new(system);

    private Task<(HttpStatusCode Status, string Body)> Send(HttpMethod method, ServiceProcess service, string path, string token, object? body = null) =>
        _requests.Send(method, path, token, body, service);

    private static IEnumerable<string> Fields(string problem) =>
        JsonDocument.Parse(problem).RootElement.GetProperty("errors").EnumerateObject().Select(e => e.Name).ToList();

    private async Task Use(string id, decimal quantity, string? tenant = null, string model = "m")
    {
        var usage = new UsageEvent(id, tenant ?? _tenant, Meters.OutputTokens, quantity, DateTimeOffset.UtcNow.AddSeconds(-1), model);
        var (status, body) = await Send(HttpMethod.Post, system.Ingest, "/v1/usage", MeteringSystem.EmitterToken, new { events = new[] { usage } });
        Assert.True(status == HttpStatusCode.Accepted, body);
    }

    /// <summary>A rate-card version from today: the prices in effect today, and this one.</summary>
    private async Task PriceFromToday(string meter, string model, string price)
    {
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        var (_, list) = await Send(HttpMethod.Get, system.Billing, "/v1/rate-card", MeteringSystem.AdminToken);
        var current = JsonDocument.Parse(list).RootElement.GetProperty("versions").Deserialize<List<RateCardVersionView>>(MeteringJson.Options)!
            .Where(v => v.EffectiveFrom <= today).OrderBy(v => v.EffectiveFrom).ThenBy(v => v.Version).LastOrDefault();
        var prices = (current?.Prices ?? []).Select(p => p.Model is null ? (object)new { meter = p.Meter, gpu_type = p.GpuType, price = p.Price }
            : new { meter = p.Meter, model = p.Model, price = p.Price }).Append(new { meter, model, price });
        var (status, body) = await Send(HttpMethod.Put, system.Billing, "/v1/rate-card", MeteringSystem.AdminToken,
            new { currency = "USD", effective_from = today.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), prices });
        Assert.True(status == HttpStatusCode.OK, body);
    }

    private async Task<decimal> InvoicedQuantity()
    {
        var (status, body) = await Send(HttpMethod.Get, system.Billing, $"/v1/invoices/{_tenant}/{Month}", MeteringSystem.AdminToken);
        return status == HttpStatusCode.OK ? JsonSerializer.Deserialize<InvoiceView>(body, MeteringJson.Options)!.Lines.Sum(l => l.Quantity) : -1;
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"{what} never happened");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task Usage_whose_id_holds_a_slash_is_voided_through_an_encoded_slash_and_a_literal_percent_2F_is_another_id()
    {
        await Use("req/1", 100);
        await Use("req%2F1", 20);
        await Use("keep", 3);
        await WaitUntilAsync(async () => await InvoicedQuantity() == 123, "the invoice of 123 tokens");

        var (slash, slashBody) = await Send(HttpMethod.Post, system.Billing, $"/v1/usage/{_tenant}/req%2F1/void", MeteringSystem.AdminToken, new { reason = "test" });
        Assert.True(slash == HttpStatusCode.OK, slashBody);
        Assert.Equal(("req/1", 100m), JsonSerializer.Deserialize<VoidView>(slashBody, MeteringJson.Options) is { } v ? (v.UsageId, v.Quantity) : default);
        // The id "req%2F1" itself, its percent sign encoded: not the one just voided.
        var (percent, percentBody) = await Send(HttpMethod.Post, system.Billing, $"/v1/usage/{_tenant}/req%252F1/void", MeteringSystem.AdminToken, new { reason = "test" });
        Assert.True(percent == HttpStatusCode.OK, percentBody);
        Assert.Equal("req%2F1", JsonSerializer.Deserialize<VoidView>(percentBody, MeteringJson.Options)!.UsageId);
        Assert.Equal(HttpStatusCode.Conflict, (await Send(HttpMethod.Post, system.Billing, $"/v1/usage/{_tenant}/req%2F1/void", MeteringSystem.AdminToken,
            new { reason = "again" })).Status);

        await WaitUntilAsync(async () => await InvoicedQuantity() == 3, "the invoice of the 3 tokens kept");
    }

    [Fact]
    public async Task Names_that_end_in_a_line_break_are_refused_everywhere_not_taken_for_a_tenant_or_model_of_their_own()
    {
        var now = DateTimeOffset.UtcNow.AddSeconds(-1);
        foreach (var (usage, field) in new[]
                 {
                     (new UsageEvent("n1", _tenant + "\n", Meters.OutputTokens, 1, now, "m"), "events[0].tenant"),
                     (new UsageEvent("n2", _tenant, Meters.OutputTokens, 1, now, "llama-4-70b\n"), "events[0].model"),
                     (new UsageEvent("n3", _tenant, Meters.GpuSeconds, 1, now, GpuType: "h100\n"), "events[0].gpu_type"),
                     (new UsageEvent("n4", _tenant, Meters.OutputTokens, 1, now, "m", Attributes: new Dictionary<string, string> { ["reservation_id"] = "r\0" }),
                         "events[0].attributes.reservation_id"),
                 })
        {
            var (status, body) = await Send(HttpMethod.Post, system.Ingest, "/v1/usage", MeteringSystem.EmitterToken, new { events = new[] { usage } });
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.Contains(field, Fields(body));
        }

        foreach (var (service, method, path, body) in new (ServiceProcess, HttpMethod, string, object?)[]
                 {
                     (system.Budgets, HttpMethod.Get, $"/v1/tenants/{_tenant}%0A/budget", null),
                     (system.Budgets, HttpMethod.Put, $"/v1/tenants/{_tenant}%0A/quota", new { limits = Array.Empty<object>() }),
                     (system.Budgets, HttpMethod.Post, $"/v1/tenants/{_tenant}%0A/authorize", new { meter = "output_tokens", quantity = 1, model = "m" }),
                     (system.Billing, HttpMethod.Get, $"/v1/invoices/{_tenant}%0A/{Month}", null),
                     (system.Billing, HttpMethod.Put, $"/v1/tenants/{_tenant}%0A/team", new { team = "x" }),
                 })
        {
            var (status, problem) = await Send(method, service, path, MeteringSystem.AdminToken, body);
            Assert.True(status == HttpStatusCode.BadRequest, $"{method} {path}: {(int)status} {problem}");
            Assert.Contains("tenant", Fields(problem));
        }

        var (card, cardProblem) = await Send(HttpMethod.Put, system.Billing, "/v1/rate-card", MeteringSystem.AdminToken,
            new { currency = "USD", effective_from = "2001-01-01", prices = new[] { new { meter = "output_tokens", model = "llama-4-70b\n", price = "1.00" } } });
        Assert.Equal(HttpStatusCode.BadRequest, card);
        Assert.Contains("prices[0].model", Fields(cardProblem));
    }

    [Fact]
    public async Task Authorize_must_name_what_usage_names_so_a_cost_limit_cannot_be_passed_by_leaving_it_out()
    {
        var model = $"ids-{Guid.NewGuid():N}"[..16];
        Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Put, system.Budgets, $"/v1/tenants/{_tenant}/quota", MeteringSystem.AdminToken,
            new { limits = new[] { new { meter = "cost_usd", period = "day", limit = "1.00", enforcement = "throttle" } } })).Status);
        Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Put, system.Billing, "/v1/rate-card", MeteringSystem.AdminToken,
            new { currency = "USD", effective_from = DateTime.UtcNow.ToString("yyyy-MM-dd"), replace = true, prices = new[] { new { meter = "input_tokens", model, price = "1.00" } } })).Status);
        // 2,000,000 tokens of the model cost 2.00 > 1.00: refused once Budgets has the rate card.
        await WaitUntilAsync(async () => (await Send(HttpMethod.Post, system.Budgets, $"/v1/tenants/{_tenant}/authorize", MeteringSystem.EmitterToken,
            new { meter = "input_tokens", quantity = 2_000_000, model })).Status == HttpStatusCode.TooManyRequests, "the refusal of 2.00 against 1.00");

        foreach (var (body, field) in new (object, string)[]
                 {
                     (new { meter = "input_tokens", quantity = 2_000_000 }, "model"),
                     (new { meter = "input_tokens", quantity = 2_000_000, model = model + "\n" }, "model"),
                     (new { meter = "input_tokens", quantity = 2_000_000, gpu_type = "h100" }, "model"),
                     (new { meter = "gpu_seconds", quantity = 3600 }, "gpu_type"),
                     (new { meter = "gpu_seconds", quantity = 3600, gpu_type = "h100\n" }, "gpu_type"),
                 })
        {
            var (status, problem) = await Send(HttpMethod.Post, system.Budgets, $"/v1/tenants/{_tenant}/authorize", MeteringSystem.EmitterToken, body);
            Assert.True(status == HttpStatusCode.BadRequest, $"{JsonSerializer.Serialize(body)}: {(int)status} {problem}");
            Assert.Equal([field], Fields(problem));
        }
    }

    [Fact]
    public async Task The_chargeback_csv_neutralises_a_formula_team_name_and_the_focus_file_keeps_it_as_entered()
    {
        const string name = "-2+3+cmd|' /C calc'!A0";
        var team = $"e2e-csv-{Guid.NewGuid():N}"[..20];
        Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Put, system.Billing, $"/v1/teams/{team}", MeteringSystem.AdminToken,
            new { name, cost_center = "CC-9" })).Status);
        Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Put, system.Billing, $"/v1/tenants/{_tenant}/team", MeteringSystem.AdminToken, new { team })).Status);
        // The FOCUS file holds priced usage only: price a model of this test from today, keeping every price in effect.
        var model = $"csv-{Guid.NewGuid():N}"[..16];
        await PriceFromToday(Meters.OutputTokens, model, "1.00");
        await Use("csv-1", 1000, model: model);
        await WaitUntilAsync(async () =>
        {
            var (status, body) = await Send(HttpMethod.Get, system.Billing, $"/v1/invoices/{_tenant}/{Month}", MeteringSystem.AdminToken);
            return status == HttpStatusCode.OK && JsonSerializer.Deserialize<InvoiceView>(body, MeteringJson.Options)!.Lines.Any(l => l.Model == model && l.UnitPrice is not null);
        }, "usage of the priced model");

        string csv = "", focus = "";
        await WaitUntilAsync(async () =>
        {
            csv = (await Send(HttpMethod.Get, system.Billing, $"/v1/chargeback/{Month}?format=csv&team={team}", MeteringSystem.AdminToken)).Body;
            focus = (await Send(HttpMethod.Get, system.Billing, $"/v1/chargeback/{Month}?format=focus&team={team}", MeteringSystem.AdminToken)).Body;
            return csv.Contains($",{team},", StringComparison.Ordinal) && focus.Contains($",{team},", StringComparison.Ordinal);
        }, "the team's rows in both exports");

        var row = Assert.Single(csv.Split('\n'), r => r.Contains($",{team},", StringComparison.Ordinal));
        Assert.Contains($",{team},'{name},CC-9,", row);
        var focusRow = Assert.Single(focus.Split('\n'), r => r.Contains($",{team},", StringComparison.Ordinal));
        Assert.Contains($",{team},{name},", focusRow);
        Assert.DoesNotContain("'" + name, focus);
    }
}
