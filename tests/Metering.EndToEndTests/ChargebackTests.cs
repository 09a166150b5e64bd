namespace Metering.EndToEndTests;

/// <summary>
/// Chargeback over the whole system: three teams in two levels, five tenants (one moved between teams mid-month, one
/// without a team), two rate-card versions in the month, a void, idle GPU capacity, finalize and a late event. The
/// statements, the FOCUS export, the ledger and the reconciliation are checked against the pricing rule computed here.
/// The month is last month, which no other test uses.
/// </summary>
[Collection(ChargebackSystemCollection.Name)]
public sealed class ChargebackTests(ChargebackMeteringSystem system)
{
    private const string Unallocated = "unallocated";
    private const string Chat = "cb-chat", Search = "cb-search", Camera = "cb-camera", Lab = "cb-lab", Orphan = "cb-orphan";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(45);
    private readonly Metering.Client.BillingClient _billing = system.BillingApi();

    private static readonly DateOnly MonthStart = LastMonthStart;
    private static readonly string Period = MonthStart.ToString("yyyy-MM", CultureInfo.InvariantCulture);
    private static readonly string ThisMonth = DateTime.UtcNow.ToString("yyyy-MM", CultureInfo.InvariantCulture);
    private static readonly DateOnly SecondVersion = MonthStart.AddDays(14);

    /// <summary>The two versions, as the test prices them: (meter, item) → price per unit size.</summary>
    private static readonly Dictionary<(string, string), decimal> Version1 = new()
    {
        [(Meters.InputTokens, "cb-llama")] = 0.60m, [(Meters.OutputTokens, "cb-llama")] = 2.40m,
        [(Meters.InputTokens, "cb-mistral")] = 0.25m, [(Meters.OutputTokens, "cb-mistral")] = 1.00m,
        [(Meters.GpuSeconds, "h200")] = 4.00m, [(Meters.GpuSeconds, "a100")] = 1.50m,
    };

    private static readonly Dictionary<(string, string), decimal> Version2 = new(Version1)
    {
        [(Meters.OutputTokens, "cb-llama")] = 2.00m, [(Meters.GpuSeconds, "h200")] = 3.50m,
    };

    [Fact]
    public async Task Statements_ledger_focus_export_and_reconciliation_agree_with_the_pricing_rule()
    {
        await PutRateCard(MonthStart, Version1);
        await PutRateCard(SecondVersion, Version2);
        await _billing.PutTeamAsync(Research, new TeamRequest("Research", "CC-100"));
        await _billing.PutTeamAsync(Nlp, new TeamRequest("Language", "CC-110", Research));
        await _billing.PutTeamAsync(Vision, new TeamRequest("Vision", "CC-120", Research));
        var cycle = await Send(HttpMethod.Put, $"/v1/teams/{Research}", MeteringSystem.AdminToken, new { name = "Research", cost_center = "CC-100", parent = Nlp });
        Assert.Equal(HttpStatusCode.BadRequest, cycle.Status);
        Assert.Contains("cycle", cycle.Body);
        foreach (var (tenant, team) in new[] { (Chat, Nlp), (Search, Nlp), (Camera, Vision), (Lab, Research) })
            await _billing.PutTenantTeamAsync(tenant, team);

        // Part one; one request sent twice (its events count once). Then the camera tenant moves to the language team:
        // what was posted stays with vision, what comes after goes to language.
        var random = new Random(20261123);
        var first = Generate(random, "one", 160);
        await Emit(first);
        await Emit(first.Take(40).ToList());
        await WaitForInvoices(first);
        await _billing.PutTenantTeamAsync(Camera, Nlp);
        var second = Generate(random, "two", 120);
        await Emit(second);
        await WaitForInvoices([.. first, .. second]);
        var voided = second.First(e => e.Tenant == Chat);
        await _billing.VoidUsageAsync(Chat, voided.Id, "test traffic");
        var counted = first.Concat(second).Where(e => e != voided).ToList();
        await WaitForInvoices(counted);

        await Admin(HttpMethod.Put, $"/v1/capacity-cost/{Period}", new
        {
            mode = "chargeback",
            items = new object[] { new { gpu_type = "h200", gpu_hours = 10, cost = "100.00" }, new { gpu_type = "a100", gpu_hours = "5.5", cost = "20.00" } },
        });
        foreach (var tenant in new[] { Chat, Search, Camera, Lab, Orphan })
            await _billing.FinalizeAsync(tenant, Period, allowUnpriced: true);
        var late = new UsageEvent("late-1", Lab, Meters.OutputTokens, 700_000, Day(20), "cb-llama");
        await Emit([late]);
        // Finalized with allow_unpriced, the month's unpriced usage is carried to this month too (unbilled until priced).
        var carried = counted.Where(e => e.Tenant == Lab && e.Model == "cb-unpriced").Select(e => e with { Id = $"carried-{e.Id}" });
        await WaitForInvoices([late, .. carried], ThisMonth);

        // The month's statement, from the rule computed here.
        var statement = await Statement(Period);
        var direct = new Dictionary<string, decimal>
        {
            [Nlp] = Expected(counted, Chat) + Expected(counted, Search) + Expected(counted, Camera) - Expected(first, Camera),
            [Vision] = Expected(first, Camera),
            [Research] = Expected(counted, Lab),
            [Unallocated] = Expected(counted, Orphan),
        };
        var idle = ExpectedIdle(counted, first);
        foreach (var (team, amount) in direct)
        {
            var view = statement.Teams.Single(t => t.Team == team);
            Assert.Equal((Money(amount), "0.00", Money(idle.GetValueOrDefault(team))), (view.Own.DirectCost, view.Own.Corrections, view.Own.IdleCost));
            Assert.Equal(Money(amount + idle.GetValueOrDefault(team)), view.Own.Total);
        }
        var research = statement.Teams.Single(t => t.Team == Research);
        Assert.Equal(Money(direct[Nlp] + direct[Vision] + direct[Research] + idle.Where(i => i.Key != Unallocated).Sum(i => i.Value)), research.RolledUp.Total);
        Assert.Equal([Camera, Chat, Search], statement.Teams.Single(t => t.Team == Nlp).Tenants);
        var unpriced = statement.Teams.Single(t => t.Team == Nlp).Usage.Single(u => u.Model == "cb-unpriced");
        var unpricedOfNlp = counted.Where(e => e.Model == "cb-unpriced" && (e.Tenant is Chat or Search || (e.Tenant == Camera && !first.Contains(e))));
        Assert.Equal(("0.00", unpricedOfNlp.Sum(e => e.Quantity)), (unpriced.Cost, unpriced.Quantity));

        // The late event is a correction of the month on this month's statement.
        var corrections = (await Statement(ThisMonth)).Teams.Single(t => t.Team == Research);
        Assert.Equal(Money(RoundCents(700_000m * 2.00m / 1_000_000m)), corrections.Own.Corrections);

        // FOCUS: the file conforms; BilledCost per invoice is the invoice's total, ListCost the unrounded price × quantity.
        var focus = await FocusRows(Period);
        var billed = FocusConformance.BilledCostPerInvoice(focus);
        foreach (var tenant in new[] { Chat, Search, Camera, Lab, Orphan })
        {
            var invoice = await Invoice(tenant, Period);
            Assert.Equal(invoice.Total, Money(billed[$"{tenant}/{Period}"]));
            Assert.Equal(invoice.Total, Money(Expected(counted, tenant)));
        }
        Assert.Contains(focus, r => r["ChargeCategory"] == "Usage" && r["ListCost"] != r["BilledCost"]);
        // Unpriced usage has no list price, so it is not in the file (reconciliation reports it, below).
        Assert.DoesNotContain(focus, r => r["x_Model"] == "cb-unpriced");
        // The rate card is the price list: a SKU price keeps its SkuPriceId over time, its price changes show as ListUnitPrice
        // (FOCUS 1.2 keeps amounts and effective dates out of the id); the version that listed the price is x_RateCardVersion.
        var llama = focus.Where(r => r["SkuId"] == $"{Meters.OutputTokens}:cb-llama").ToList();
        Assert.Equal($"{Meters.OutputTokens}:cb-llama:standard", Assert.Single(llama.Select(r => r["SkuPriceId"]).Distinct()));
        var versions = llama.GroupBy(r => r["ListUnitPrice"]).ToDictionary(g => g.Key, g => Assert.Single(g.Select(r => r["x_RateCardVersion"]).Distinct()));
        Assert.Equal(["2.00", "2.40"], versions.Keys.Order(StringComparer.Ordinal));
        Assert.True(int.Parse(versions["2.00"], CultureInfo.InvariantCulture) > int.Parse(versions["2.40"], CultureInfo.InvariantCulture));
        Assert.Single(focus.Where(r => r["SkuId"] == $"{Meters.InputTokens}:cb-llama").Select(r => r["x_RateCardVersion"]).Distinct());
        Assert.All(focus, r => Assert.Equal("Generative AI", r["ServiceSubcategory"]));
        Assert.All(focus.Where(r => r["x_Meter"] == Meters.GpuSeconds && r["ChargeCategory"] == "Usage"), r => Assert.Equal("GPU Time", r["SkuMeter"]));
        Assert.Equal(Money(idle.Values.Sum()), Money(focus.Where(r => r["ChargeCategory"] == "Adjustment").Sum(r => decimal.Parse(r["BilledCost"], CultureInfo.InvariantCulture))));
        var correction = Assert.Single(await FocusRows(ThisMonth), r => r["x_Tenant"] == Lab && decimal.Parse(r["BilledCost"], CultureInfo.InvariantCulture) != 0);
        Assert.Equal(("Correction", $"{Period}-01T00:00:00Z", $"{ThisMonth}-01T00:00:00Z", Research),
            (correction["ChargeClass"], correction["ChargePeriodStart"], correction["BillingPeriodStart"], correction["SubAccountId"]));

        // Every posting balances; the four ways of counting the month agree.
        Assert.Empty(await UnbalancedPostings());
        var reconciliation = await Reconciliation(Period);
        Assert.True(reconciliation.Balanced, JsonSerializer.Serialize(reconciliation, MeteringJson.Options));
        var total = direct.Values.Sum();
        Assert.Equal((Money(total), Money(total), Money(total), Money(total)),
            (reconciliation.UsagePriced, reconciliation.Invoices, Money(decimal.Parse(reconciliation.LedgerDebits, CultureInfo.InvariantCulture) - idle.Values.Sum()), reconciliation.Statements));
        Assert.Equal(new ReconciliationCounts(counted.Count + 2, 40, 0, 0, 1, 1, 0), reconciliation.Counts);
        Assert.Equal(Money(idle.Values.Sum()), reconciliation.Capacity!.Posted);
        Assert.Equal(counted.Where(e => e.Model == "cb-unpriced").GroupBy(e => e.Tenant).Select(g => (g.Key, g.Sum(e => e.Quantity))).OrderBy(x => x.Key),
            reconciliation.Unpriced.Select(u => (u.Tenant, u.Quantity)).OrderBy(x => x.Tenant));
        var thisMonth = await Reconciliation(ThisMonth);
        Assert.True(thisMonth.Balanced, JsonSerializer.Serialize(thisMonth, MeteringJson.Options));

        // A void of the finalized month is a correction on this month: this month's file conforms too, with every invoice's total.
        var refunded = first.First(e => e.Tenant == Search && e.Model == "cb-llama");
        await _billing.VoidUsageAsync(Search, refunded.Id, "refund after finalize");
        // This month's invoice also carries Search's unpriced usage of the month finalized with allow_unpriced.
        var searchCarried = counted.Where(e => e.Tenant == Search && e.Model == "cb-unpriced");
        await WaitForInvoices([refunded with { Quantity = -refunded.Quantity }, .. searchCarried], ThisMonth);
        var thisMonthFocus = await FocusRows(ThisMonth);
        var thisMonthBilled = FocusConformance.BilledCostPerInvoice(thisMonthFocus);
        foreach (var tenant in new[] { Search, Lab })
            Assert.Equal((await Invoice(tenant, ThisMonth)).Total, Money(thisMonthBilled[$"{tenant}/{ThisMonth}"]));
        var refund = Assert.Single(thisMonthFocus, r => r["x_Tenant"] == Search);
        Assert.Equal(("Correction", $"{Period}-01T00:00:00Z"), (refund["ChargeClass"], refund["ChargePeriodStart"]));
        Assert.StartsWith("-", refund["BilledCost"]);
        var afterVoid = await Reconciliation(ThisMonth);
        Assert.True(afterVoid.Balanced, JsonSerializer.Serialize(afterVoid, MeteringJson.Options));

        // Viewers read their own team and the teams below it, nothing else.
        var nlpViewer = MeteringSystem.ViewerTokens[Nlp];
        var nlpStatement = await Statement(Period, nlpViewer);
        Assert.Equal([Nlp], nlpStatement.Teams.Select(t => t.Team));
        Assert.Equal(HttpStatusCode.Forbidden, (await Send(HttpMethod.Get, $"/v1/chargeback/{Period}?team={Vision}", nlpViewer)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await Send(HttpMethod.Get, $"/v1/chargeback/{Period}?team={Research}&format=focus", nlpViewer)).Status);
        var narrowed = await Send(HttpMethod.Get, $"/v1/chargeback/{Period}?team={Vision}", MeteringSystem.ViewerTokens[Research]);
        Assert.Equal([Vision], JsonSerializer.Deserialize<ChargebackStatementView>(narrowed.Body, MeteringJson.Options)!.Teams.Select(t => t.Team));
        Assert.Equal(HttpStatusCode.NotFound, (await Send(HttpMethod.Get, $"/v1/chargeback/{Period}?team=e2e-nobody", MeteringSystem.AdminToken)).Status);
        Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Get, $"/v1/invoices/{Chat}/{Period}", nlpViewer)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await Send(HttpMethod.Get, $"/v1/invoices/{Lab}/{Period}", nlpViewer)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await Send(HttpMethod.Get, $"/v1/invoices/{Orphan}/{Period}/usage", nlpViewer)).Status);
        var researchViewer = MeteringSystem.ViewerTokens[Research];
        Assert.Equal([Nlp, Research, Vision], (await Statement(Period, researchViewer)).Teams.Select(t => t.Team).Order());
        Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Get, $"/v1/invoices/{Camera}/{Period}/usage", researchViewer)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await Send(HttpMethod.Get, $"/v1/reconciliation/{Period}", researchViewer)).Status);
        // The camera tenant moved to language mid-month: vision paid for part of the month and still reads that invoice.
        var visionViewer = MeteringSystem.ViewerTokens[Vision];
        Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Get, $"/v1/invoices/{Camera}/{Period}", visionViewer)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await Send(HttpMethod.Get, $"/v1/invoices/{Camera}/{ThisMonth}", visionViewer)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await Send(HttpMethod.Get, $"/v1/invoices/{Chat}/{Period}", visionViewer)).Status);
        Assert.All(await FocusRows(Period, nlpViewer), r => Assert.Equal(Nlp, r["SubAccountId"]));
    }

    /// <summary>
    /// The ledger is made to lag honestly: the test holds the ledger's progress row, so the ledger daemon cannot commit
    /// what it posts next. The files then answer 503 with Retry-After while the JSON view says it is not current; once
    /// the row is released the ledger catches up and the files are served.
    /// </summary>
    [Fact]
    public async Task Csv_and_focus_exports_answer_503_with_retry_after_while_the_ledger_has_not_caught_up()
    {
        UsageEvent Usage() => new($"stale-{Guid.NewGuid():N}", "cb-stale", Meters.InputTokens, 1_000, DateTimeOffset.UtcNow, "cb-llama");
        var before = Usage();
        await Emit([before]);
        await WaitForInvoices([before], ThisMonth);
        await Statement(ThisMonth);
        await using var connection = new NpgsqlConnection(system.PostgresConnectionString);
        await connection.OpenAsync();
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await using (var hold = new NpgsqlCommand("select name from billing.mt_event_progression where name like 'chargeback-ledger%' for update",
                             connection, transaction))
            await using (var reader = await hold.ExecuteReaderAsync())
                Assert.True(await reader.ReadAsync(), "the ledger has no progress row");
            var lagging = Usage();
            await Emit([lagging]);
            await WaitForInvoices([before, lagging], ThisMonth);

            var csv = Download(ThisMonth, "csv");
            var focus = Download(ThisMonth, "focus");
            var json = Send(HttpMethod.Get, $"/v1/chargeback/{ThisMonth}", MeteringSystem.AdminToken);
            foreach (var download in await Task.WhenAll(csv, focus))
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, download.Status);
                Assert.Equal("application/problem+json", download.ContentType);
                Assert.True(int.Parse(download.RetryAfter!, CultureInfo.InvariantCulture) > 0, download.RetryAfter);
            }
            var view = await json;
            Assert.Equal(HttpStatusCode.OK, view.Status);
            Assert.False(JsonSerializer.Deserialize<ChargebackStatementView>(view.Body, MeteringJson.Options)!.LedgerCurrent);
            await transaction.RollbackAsync();
        }
        await Statement(ThisMonth);
        foreach (var format in new[] { "csv", "focus" })
            Assert.Equal(HttpStatusCode.OK, (await Download(ThisMonth, format)).Status);
    }

    private async Task<(HttpStatusCode Status, string? ContentType, string? RetryAfter)> Download(string period, string format)
    {
        using var response = await system.Http.SendAsync(system.Request(HttpMethod.Get, system.Billing, $"/v1/chargeback/{period}?format={format}",
            MeteringSystem.AdminToken, null));
        return (response.StatusCode, response.Content.Headers.ContentType?.MediaType, response.Headers.RetryAfter?.Delta?.TotalSeconds.ToString(CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Bad_team_mappings_and_capacity_costs_are_400_with_the_field_and_change_nothing()
    {
        var team = await Send(HttpMethod.Put, "/v1/teams/Bad_Team", MeteringSystem.AdminToken, new { name = "", cost_center = "no spaces allowed", parent = "e2e-missing" });
        Assert.Equal(HttpStatusCode.BadRequest, team.Status);
        Assert.Equal(["cost_center", "name", "team"], Fields(team.Body));
        var unknownParent = await Send(HttpMethod.Put, "/v1/teams/e2e-orphaned", MeteringSystem.AdminToken, new { name = "x", cost_center = "CC-1", parent = "e2e-missing" });
        Assert.Equal(["parent"], Fields(unknownParent.Body));
        var unknownTeam = await Send(HttpMethod.Put, "/v1/tenants/cb-someone/team", MeteringSystem.AdminToken, new { team = "e2e-missing" });
        Assert.Equal(["team"], Fields(unknownTeam.Body));
        Assert.Equal(HttpStatusCode.NotFound, (await Send(HttpMethod.Get, "/v1/tenants/cb-someone/team", MeteringSystem.AdminToken)).Status);
        var teams = await Send(HttpMethod.Get, "/v1/teams", MeteringSystem.AdminToken);
        Assert.DoesNotContain("e2e-orphaned", teams.Body);

        var capacity = await Send(HttpMethod.Put, "/v1/capacity-cost/2999-01", MeteringSystem.AdminToken, new
        {
            mode = "both",
            items = new object[] { new { gpu_type = "H100", gpu_hours = 0, cost = 12.5 }, new { gpu_type = "a100", gpu_hours = 1, cost = "-1" } },
        });
        Assert.Equal(["items[0].cost", "items[0].gpu_hours", "items[0].gpu_type", "items[1].cost", "mode", "period"], Fields(capacity.Body));
        Assert.Equal(HttpStatusCode.BadRequest, (await Send(HttpMethod.Get, "/v1/chargeback/2026-1?format=pdf", MeteringSystem.AdminToken)).Status);
        foreach (var path in new[] { "/v1/chargeback/9999-12?format=focus", "/v1/reconciliation/9999-12", "/v1/invoices/cb-chat/9999-12", "/v1/chargeback/1999-12" })
            Assert.Equal(HttpStatusCode.BadRequest, (await Send(HttpMethod.Get, path, MeteringSystem.AdminToken)).Status);
    }

    /// <summary>
    /// Every endpoint of the three services against every kind of caller: no token is 401, a role the endpoint does not
    /// admit is 403, an admitted one gets past authorization (the inputs are invalid on purpose, so nothing changes).
    /// </summary>
    [Fact]
    public async Task Every_endpoint_admits_exactly_its_roles()
    {
        const string admin = "admin", emitter = "emitter", viewer = "viewer";
        var endpoints = new (ServiceProcess Service, HttpMethod Method, string Path, string[] Roles)[]
        {
            (system.Ingest, HttpMethod.Post, "/v1/usage", [admin, emitter]),
            (system.Budgets, HttpMethod.Get, "/v1/tenants/BAD/budget", [admin, emitter]),
            (system.Budgets, HttpMethod.Put, "/v1/tenants/BAD/quota", [admin]),
            (system.Budgets, HttpMethod.Get, "/v1/tenants/BAD/quota/history", [admin]),
            (system.Budgets, HttpMethod.Post, "/v1/tenants/BAD/authorize", [admin, emitter]),
            (system.Budgets, HttpMethod.Get, "/v1/diagnostics/memory", [admin]),
            (system.Billing, HttpMethod.Post, "/v1/usage/BAD/x/void", [admin]),
            (system.Billing, HttpMethod.Put, "/v1/rate-card", [admin]),
            (system.Billing, HttpMethod.Get, "/v1/rate-card", [admin, viewer]),
            (system.Billing, HttpMethod.Put, "/v1/teams/BAD", [admin]),
            (system.Billing, HttpMethod.Get, "/v1/teams", [admin]),
            (system.Billing, HttpMethod.Put, "/v1/tenants/BAD/team", [admin]),
            (system.Billing, HttpMethod.Get, "/v1/tenants/BAD/team", [admin]),
            (system.Billing, HttpMethod.Get, "/v1/invoices/BAD/2026-01", [admin, viewer]),
            (system.Billing, HttpMethod.Get, "/v1/invoices/BAD/2026-01/usage", [admin, viewer]),
            (system.Billing, HttpMethod.Post, "/v1/invoices/BAD/2026-01/finalize", [admin]),
            (system.Billing, HttpMethod.Get, "/v1/chargeback/BAD", [admin, viewer]),
            (system.Billing, HttpMethod.Put, "/v1/capacity-cost/BAD", [admin]),
            (system.Billing, HttpMethod.Get, "/v1/reconciliation/BAD", [admin]),
        };
        var callers = new Dictionary<string, string?>
        {
            ["none"] = null, [admin] = MeteringSystem.AdminToken, [emitter] = MeteringSystem.EmitterToken, [viewer] = MeteringSystem.ViewerTokens[Nlp],
        };
        var wrong = new List<string>();
        foreach (var (service, method, path, roles) in endpoints)
        foreach (var (caller, token) in callers)
        {
            using var response = await system.Http.SendAsync(system.Request(method, service, path, token,
                method == HttpMethod.Get ? null : new StringContent("{}", Encoding.UTF8, "application/json")));
            var status = response.StatusCode;
            var ok = token is null ? status == HttpStatusCode.Unauthorized
                : roles.Contains(caller) ? status is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden) && (int)status < 500
                : status == HttpStatusCode.Forbidden;
            if (!ok) wrong.Add($"{method} {path} as {caller}: {(int)status}");
        }
        Assert.Empty(wrong);
    }

    private static DateTimeOffset Day(int day) => new(MonthStart.AddDays(day - 1).ToDateTime(new TimeOnly(12, 0)), TimeSpan.Zero);

    /// <summary>Usage of every tenant across models, an unpriced model and two GPU types, on a day of each rate-card version.</summary>
    private static List<UsageEvent> Generate(Random random, string part, int count)
    {
        string[] tenants = [Chat, Search, Camera, Lab, Orphan];
        return Enumerable.Range(0, count).Select(i =>
        {
            var tenant = tenants[i % tenants.Length];
            var day = random.Next(2) == 0 ? Day(3) : Day(20);
            return random.Next(6) switch
            {
                0 => new UsageEvent($"{part}-{i}", tenant, Meters.GpuSeconds, Math.Round((decimal)random.NextDouble() * 900, 6), day, null, random.Next(2) == 0 ? "h200" : "a100"),
                1 => new UsageEvent($"{part}-{i}", tenant, Meters.InputTokens, random.Next(1, 400_000), day, "cb-unpriced"),
                var k => new UsageEvent($"{part}-{i}", tenant, k % 2 == 0 ? Meters.InputTokens : Meters.OutputTokens, random.Next(1, 2_000_000), day,
                    k < 4 ? "cb-llama" : "cb-mistral"),
            };
        }).ToList();
    }

    /// <summary>PRODUCT §4's rule, written out again: lines of (meter, item, unit price), each rounded half to even.</summary>
    private static decimal Expected(IEnumerable<UsageEvent> usage, string tenant) =>
        usage.Where(e => e.Tenant == tenant)
            .Select(e => (e.Meter, Item: e.Model ?? e.GpuType!, Price: PriceOn(e), e.Quantity))
            .Where(x => x.Price is not null)
            .GroupBy(x => (x.Meter, x.Item, x.Price))
            .Sum(g => RoundCents(g.Sum(x => x.Quantity) * g.Key.Price!.Value / (g.Key.Meter == Meters.GpuSeconds ? 3_600m : 1_000_000m)));

    private static decimal? PriceOn(UsageEvent e)
    {
        var card = DateOnly.FromDateTime(e.Timestamp.UtcDateTime) >= SecondVersion ? Version2 : Version1;
        return card.TryGetValue((e.Meter, e.Model ?? e.GpuType!), out var price) ? price : null;
    }

    private static decimal RoundCents(decimal amount) => Math.Round(amount, 2, MidpointRounding.ToEven);

    /// <summary>Idle cost per GPU type, split over teams by metered seconds in whole cents, largest remainders first.</summary>
    private static Dictionary<string, decimal> ExpectedIdle(List<UsageEvent> counted, List<UsageEvent> first)
    {
        string TeamOf(UsageEvent e) => e.Tenant switch
        {
            Chat or Search => Nlp, Lab => Research, Orphan => Unallocated,
            _ => first.Contains(e) ? Vision : Nlp,
        };
        var shares = new Dictionary<string, decimal>();
        foreach (var (gpuType, hours, cost) in new[] { ("h200", 10m, 100m), ("a100", 5.5m, 20m) })
        {
            var byTeam = counted.Where(e => e.Meter == Meters.GpuSeconds && e.GpuType == gpuType).GroupBy(TeamOf).ToDictionary(g => g.Key, g => g.Sum(e => e.Quantity));
            var metered = byTeam.Values.Sum();
            var idleCents = (long)(RoundCents(cost * (hours * 3600 - metered) / (hours * 3600)) * 100);
            var exact = byTeam.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => (t.Key, Cents: idleCents * t.Value / metered)).ToList();
            var given = exact.ToDictionary(x => x.Key, x => Math.Floor(x.Cents));
            foreach (var x in exact.OrderByDescending(x => x.Cents - Math.Floor(x.Cents)).ThenBy(x => x.Key, StringComparer.Ordinal).Take((int)(idleCents - given.Values.Sum())))
                given[x.Key]++;
            foreach (var (team, cents) in given) shares[team] = shares.GetValueOrDefault(team) + cents / 100m;
        }
        return shares;
    }

    private static string Money(decimal amount) => amount.ToString("0.00", CultureInfo.InvariantCulture);

    private Task PutRateCard(DateOnly effectiveFrom, Dictionary<(string Meter, string Item), decimal> prices) =>
        _billing.PutRateCardAsync(new RateCardRequest("USD", effectiveFrom,
            [.. prices.Select(p => p.Key.Meter == Meters.GpuSeconds
                ? new RateCardPriceView(p.Key.Meter, null, p.Key.Item, p.Value.ToString(CultureInfo.InvariantCulture))
                : new RateCardPriceView(p.Key.Meter, p.Key.Item, null, p.Value.ToString(CultureInfo.InvariantCulture)))], Replace: true));

    private async Task Emit(IReadOnlyList<UsageEvent> events)
    {
        var ingest = system.IngestApi();
        foreach (var chunk in events.Chunk(100)) Assert.Equal(chunk.Length, (await ingest.SendUsageAsync(chunk)).Accepted);
    }

    /// <summary>Waits until every tenant's invoice of the month holds exactly the quantities of <paramref name="usage"/>.</summary>
    private async Task WaitForInvoices(IReadOnlyList<UsageEvent> usage, string? month = null)
    {
        var deadline = DateTime.UtcNow + Patience;
        foreach (var tenant in usage.Select(e => e.Tenant).Distinct())
        {
            var expected = usage.Where(e => e.Tenant == tenant).Sum(e => e.Quantity);
            while (true)
            {
                var invoice = await _billing.GetInvoiceAsync(tenant, month ?? Period);
                if (invoice is not null && invoice.Lines.Sum(l => l.Quantity) == expected) break;
                Assert.True(DateTime.UtcNow < deadline, $"the invoice of {tenant} never reached {expected}: {JsonSerializer.Serialize(invoice, MeteringJson.Options)}");
                await Task.Delay(100);
            }
        }
    }

    private async Task<InvoiceView> Invoice(string tenant, string period) => (await _billing.GetInvoiceAsync(tenant, period))!;

    /// <summary>The statement once the ledger has posted everything recorded before it was asked for.</summary>
    private async Task<ChargebackStatementView> Statement(string period, string token = MeteringSystem.AdminToken)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            var statement = await system.BillingApi(token).GetChargebackAsync(period);
            if (statement.LedgerCurrent) return statement;
            Assert.True(DateTime.UtcNow < deadline, "the ledger never caught up");
        }
    }

    private Task<ReconciliationView> Reconciliation(string period) => _billing.GetReconciliationAsync(period);

    /// <summary>The FOCUS file parsed, once it conforms to <see cref="FocusConformance"/>.</summary>
    private async Task<List<Dictionary<string, string>>> FocusRows(string period, string token = MeteringSystem.AdminToken)
    {
        await Statement(period, token);
        var (status, body) = await Send(HttpMethod.Get, $"/v1/chargeback/{period}?format=focus", token);
        Assert.Equal(HttpStatusCode.OK, status);
        var lines = ParseCsv(body);
        var header = lines[0];
        var rows = lines.Skip(1).Select(l => header.Zip(l).ToDictionary(p => p.First, p => p.Second)).ToList();
        Assert.All(rows, r => Assert.Equal(header.Length, r.Count));
        Assert.Empty(FocusConformance.Violations(header, rows));
        Assert.All(rows, r => Assert.Equal($"{period}-01T00:00:00Z", r["BillingPeriodStart"]));
        return rows;
    }

    private static List<string[]> ParseCsv(string text)
    {
        var rows = new List<string[]>();
        var fields = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"') { field.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else field.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { fields.Add(field.ToString()); field.Clear(); }
            else if (c == '\n')
            {
                fields.Add(field.ToString().TrimEnd('\r'));
                field.Clear();
                rows.Add([.. fields]);
                fields.Clear();
            }
            else field.Append(c);
        }
        return rows;
    }

    private async Task<List<string>> UnbalancedPostings()
    {
        await using var connection = new NpgsqlConnection(system.PostgresConnectionString);
        await connection.OpenAsync();
        await using var count = new NpgsqlCommand("select count(*) from billing.mt_doc_ledgerposting", connection);
        Assert.True((long)(await count.ExecuteScalarAsync())! > 0, "the ledger has no postings");
        await using var command = new NpgsqlCommand("""
            select id from billing.mt_doc_ledgerposting p
            where (select sum((l->>'Amount')::numeric) from jsonb_array_elements(p.data->'Lines') l) <> 0
            """, connection);
        var unbalanced = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) unbalanced.Add(reader.GetString(0));
        return unbalanced;
    }

    private static StringContent Json(object body) => new(JsonSerializer.Serialize(body, MeteringJson.Options), Encoding.UTF8, "application/json");

    private async Task Admin(HttpMethod method, string path, object body)
    {
        var (status, text) = await Send(method, path, MeteringSystem.AdminToken, body);
        Assert.True(status == HttpStatusCode.OK, $"{method} {path}: {(int)status} {text}");
    }

    private async Task<(HttpStatusCode Status, string Body)> Send(HttpMethod method, string path, string? token, object? body = null)
    {
        using var response = await system.Http.SendAsync(system.Request(method, system.Billing, path, token, body is null ? null : Json(body)));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static List<string> Fields(string problem) =>
        JsonDocument.Parse(problem).RootElement.GetProperty("errors").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToList();
}
