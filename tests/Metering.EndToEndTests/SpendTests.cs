namespace Metering.EndToEndTests;

/// <summary>
/// Spend and the invoice list over HTTP: by feature, team and tenant, a month by tenant equal to the invoice, a void
/// taken off, viewers narrowed to their subtree and refused outside it, and every bad parameter named. Other tests share
/// the system, so every assertion is about this test's own tenants and model (last month, on days no other test uses them).
/// </summary>
[Collection(MeteringSystemCollection.Name)]
public sealed class SpendTests(MeteringSystem system)
{
    private readonly BillingRequests _billing = new(system);
    private readonly string _run = Guid.NewGuid().ToString("N")[..10];
    private string Chat => $"sp-chat-{_run}";
    private string Camera => $"sp-camera-{_run}";
    private string Model => $"sp-model-{_run}";

    private static readonly DateOnly MonthStart = LastMonthStart;
    private static readonly DateOnly MonthEnd = MonthStart.AddMonths(1).AddDays(-1);
    private static readonly string Period = MonthStart.ToString("yyyy-MM", CultureInfo.InvariantCulture);
    private static readonly string Range = $"from={Date(MonthStart)}&to={Date(MonthEnd)}";

    [Fact]
    public async Task Spend_and_the_invoice_list_follow_the_invoices_the_teams_charged_and_the_viewers_scope()
    {
        await _billing.DefineSharedTeams();
        await _billing.Admin(HttpMethod.Put, $"/v1/tenants/{Chat}/team", new { team = Nlp });
        await _billing.Admin(HttpMethod.Put, $"/v1/tenants/{Camera}/team", new { team = Vision });
        await _billing.AddPrice(Model, Date(MonthStart), "2.00");
        await _billing.AddPrice(Model, Date(DateOnly.FromDateTime(DateTime.UtcNow)), "2.00");

        var (second, third) = (At(MonthStart.AddDays(1)), At(MonthStart.AddDays(2)));
        UsageEvent[] usage =
        [
            new("c1", Chat, Meters.OutputTokens, 1_000_000, second, Model, Attributes: new Dictionary<string, string> { ["feature"] = "assistant" }),
            new("c2", Chat, Meters.OutputTokens, 1_000_000, third, Model),
            new("c3", Chat, Meters.OutputTokens, 1_667, third, Model),
            new("v1", Camera, Meters.OutputTokens, 500_000, second, Model, Attributes: new Dictionary<string, string> { ["feature"] = "search" }),
        ];
        var (posted, _) = await _billing.Send(HttpMethod.Post, "/v1/usage", MeteringSystem.EmitterToken, new { events = usage }, system.Ingest);
        Assert.Equal(HttpStatusCode.Accepted, posted);

        // By feature: usage without one is the null key; c3's 0.0033… counts in its day's point, rounded once.
        await BillingRequests.WaitFor(async () => (await Spend($"{Range}&group_by=feature&tenant={Chat}")).Total == "4.00");
        var byFeature = await Spend($"{Range}&group_by=feature&tenant={Chat}");
        Assert.Equal([("assistant", Date(MonthStart.AddDays(1)), "2.00"), (null, Date(MonthStart.AddDays(2)), "2.00")], Points(byFeature));
        Assert.Equal(("feature", "day", "USD"), (byFeature.GroupBy, byFeature.Granularity, byFeature.Currency));
        var byTeam = await Spend($"{Range}&group_by=team&tenant={Camera}");
        Assert.Equal([(Vision, Date(MonthStart.AddDays(1)), "1.00")], Points(byTeam));
        var byMeter = await Spend($"{Range}&group_by=meter&tenant={Camera}&granularity=month");
        Assert.Equal(500_000m, byMeter.Series.Single().Points.Single().Quantity);

        // A void is taken off its day.
        await _billing.Admin(HttpMethod.Post, $"/v1/usage/{Chat}/c2/void", new { reason = "test traffic" });
        await BillingRequests.WaitFor(async () => (await Spend($"{Range}&group_by=tenant&tenant={Chat}")).Total == "2.00");

        // The month by tenant is the invoice's total; the invoice list has the same.
        var invoice = JsonSerializer.Deserialize<InvoiceView>((await _billing.Send(HttpMethod.Get, $"/v1/invoices/{Chat}/{Period}", MeteringSystem.AdminToken)).Body, MeteringJson.Options)!;
        var month = await Spend($"{Range}&group_by=tenant&granularity=month&tenant={Chat}");
        Assert.Equal([(Chat, Period, invoice.Total)], Points(month));
        var list = await Invoices(Period, MeteringSystem.AdminToken);
        Assert.Contains(new InvoiceSummaryView(Chat, Nlp, InvoiceStatuses.Draft, invoice.Total), list.Invoices);
        Assert.Contains(list.Invoices, i => i.Tenant == Camera && i.Team == Vision && i.Total == "1.00");
        Assert.Equal(list.Invoices.Sum(i => decimal.Parse(i.Total, CultureInfo.InvariantCulture)), decimal.Parse(list.Total, CultureInfo.InvariantCulture));

        // Viewers: their subtree only, never padded; a team or tenant outside it is 403.
        var nlp = MeteringSystem.ViewerTokens[Nlp];
        var nlpTenants = (await Spend($"{Range}&group_by=tenant", nlp)).Series.Select(s => s.Key).ToList();
        Assert.Contains(Chat, nlpTenants);
        Assert.DoesNotContain(Camera, nlpTenants);
        var researchTenants = (await Spend($"{Range}&group_by=tenant", MeteringSystem.ViewerTokens[Research])).Series.Select(s => s.Key).ToList();
        Assert.Contains(Chat, researchTenants);
        Assert.Contains(Camera, researchTenants);
        Assert.Equal([Vision], (await Spend($"{Range}&group_by=team&tenant={Camera}", MeteringSystem.ViewerTokens[Research])).Series.Select(s => s.Key));
        Assert.Equal(HttpStatusCode.Forbidden, (await _billing.Send(HttpMethod.Get, $"/v1/spend?{Range}&team={Vision}", nlp)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await _billing.Send(HttpMethod.Get, $"/v1/spend?{Range}&tenant={Camera}", nlp)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await _billing.Send(HttpMethod.Get, $"/v1/spend?{Range}&team={Research}", nlp)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await _billing.Send(HttpMethod.Get, $"/v1/spend?{Range}", MeteringSystem.EmitterToken)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _billing.Send(HttpMethod.Get, $"/v1/spend?{Range}", null)).Status);
        var nlpMonth = await Spend($"{Range}&group_by=tenant&granularity=month", nlp);
        Assert.Contains(nlpMonth.Series, s => s.Key == Chat && s.Points.Single().Cost == invoice.Total);
        Assert.DoesNotContain(nlpMonth.Series, s => s.Key == Camera);

        var nlpList = await Invoices(Period, nlp);
        Assert.Contains(nlpList.Invoices, i => i.Tenant == Chat);
        Assert.DoesNotContain(nlpList.Invoices, i => i.Tenant == Camera);
        Assert.Equal(nlpList.Invoices.Sum(i => decimal.Parse(i.Total, CultureInfo.InvariantCulture)), decimal.Parse(nlpList.Total, CultureInfo.InvariantCulture));
        Assert.Equal(HttpStatusCode.Forbidden, (await _billing.Send(HttpMethod.Get, $"/v1/invoices?period={Period}", MeteringSystem.EmitterToken)).Status);
    }

    [Theory]
    [InlineData("to=2026-10-31", "from")]
    [InlineData("from=2026-10-01", "to")]
    [InlineData("from=2026-10-01&to=2026-02-30", "to")]
    [InlineData("from=2026-10-02&to=2026-10-01", "to")]
    [InlineData("from=2025-01-01&to=2026-10-01", "to")]
    [InlineData("from=10/01/2026&to=2026-10-31", "from")]
    [InlineData("from=9998-12-01&to=9999-12-31", "to")]
    [InlineData("from=2026-10-01&to=2026-10-31&group_by=region", "group_by")]
    [InlineData("from=2026-10-01&to=2026-10-31&granularity=week", "granularity")]
    [InlineData("from=2026-10-01&to=2026-10-31&tenant=Not%20A%20Tenant", "tenant")]
    [InlineData("from=2026-10-01&to=2026-10-31&team=%00", "team")]
    [InlineData("from=2026-10-01&to=2026-10-31&meter=tokens", "meter")]
    [InlineData("from=2026-10-01&to=2026-10-31&model=", "model")]
    [InlineData("from=2026-10-01&to=2026-10-31&gpu_type=H100%21", "gpu_type")]
    [InlineData("from=2026-10-01&from=2026-10-02&to=2026-10-31", "from")]
    public async Task A_bad_spend_parameter_is_a_400_naming_it(string query, string field)
    {
        foreach (var token in new[] { MeteringSystem.AdminToken, MeteringSystem.ViewerTokens[Nlp] })
        {
            using var response = await system.Http.SendAsync(system.Request(HttpMethod.Get, system.Billing, $"/v1/spend?{query}", token));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal([field], Fields(await response.Content.ReadAsStringAsync()));
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("?period=2026-13")]
    [InlineData("?period=2026-1")]
    [InlineData("?period=")]
    public async Task The_invoice_list_needs_a_period(string query)
    {
        var (status, body) = await _billing.Send(HttpMethod.Get, $"/v1/invoices{query}", MeteringSystem.AdminToken);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(["period"], Fields(body));
    }

    private static DateTimeOffset At(DateOnly day) => new(day.ToDateTime(new TimeOnly(12, 0)), TimeSpan.Zero);

    private static List<(string? Key, string Date, string Cost)> Points(SpendView view) =>
        view.Series.SelectMany(s => s.Points.Select(p => (s.Key, p.Date, p.Cost))).ToList();

    private async Task<SpendView> Spend(string query, string token = MeteringSystem.AdminToken)
    {
        var (status, body) = await _billing.Send(HttpMethod.Get, $"/v1/spend?{query}", token);
        Assert.True(status == HttpStatusCode.OK, $"/v1/spend?{query}: {(int)status} {body}");
        var view = JsonSerializer.Deserialize<SpendView>(body, MeteringJson.Options)!;
        // A missing group value is written as null, never left out.
        Assert.All(JsonNode.Parse(body)!["series"]!.AsArray(), s => Assert.True(s!.AsObject().ContainsKey("key")));
        return view;
    }

    private async Task<InvoiceListView> Invoices(string period, string token)
    {
        var (status, body) = await _billing.Send(HttpMethod.Get, $"/v1/invoices?period={period}", token);
        Assert.True(status == HttpStatusCode.OK, $"/v1/invoices?period={period}: {(int)status} {body}");
        return JsonSerializer.Deserialize<InvoiceListView>(body, MeteringJson.Options)!;
    }


    private static List<string> Fields(string problem) =>
        JsonDocument.Parse(problem).RootElement.GetProperty("errors").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToList();
}
