using Metering.Budgets.Lists;

namespace Metering.IntegrationTests;

/// <summary>
/// The tenant list and the alert list read from the budgets store on a scratch database (so every row is this test's):
/// keyset pages over many tenants with status and prefix filters, cursors that stay put while rows are added, and
/// alerts stored exactly once by the grain, still listed after a silo restart.
/// </summary>
public sealed class BudgetListTests() : BudgetDatabaseTests("budget_lists")
{
    private static readonly DateTimeOffset Noon = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateOnly Day = DateOnly.FromDateTime(Noon.UtcDateTime);
    private BudgetStore Store => new(DataSource);
    private QuotaStore Quotas => new(DataSource);

    private static QuotaLimit Limit(decimal limit) => new(Meters.InputTokens, Periods.Day, limit, 80, Enforcements.Throttle);

    private Task<TenantListView> Tenants(string? status = null, string? prefix = null, string? after = null, int limit = ListPaging.DefaultLimit) =>
        ListTenants.ReadAsync(DataSource, new ListTenants.Query(status, prefix, after, limit), CancellationToken.None);

    /// <summary>Every page from the first, following <c>next_cursor</c>.</summary>
    private async Task<List<List<TenantSummary>>> AllPages(string? status = null, string? prefix = null, int limit = 40)
    {
        var pages = new List<List<TenantSummary>>();
        string? after = null;
        while (true)
        {
            var page = await Tenants(status, prefix, after, limit);
            pages.Add([.. page.Tenants]);
            if (page.NextCursor is null) return pages;
            Assert.Equal(limit, page.Tenants.Count);
            after = ListTenants.After(page.NextCursor);
            Assert.Equal(page.Tenants[^1].Tenant, after);
        }
    }

    [Fact]
    public async Task The_tenant_list_pages_over_every_known_tenant_in_id_order_with_status_and_prefix_filters()
    {
        // 300 tenants, known by a quota, by usage, by a status, or by several: every third throttled, every seventh warning.
        var expected = new SortedDictionary<string, (string Status, int Limits)>(StringComparer.Ordinal);
        for (var i = 0; i < 300; i++)
        {
            var tenant = $"{(i % 2 == 0 ? "alpha" : "beta")}-{i:D3}";
            var limits = 0;
            if (i % 3 != 1)
            {
                limits = 1 + i % 3;
                await Quotas.SaveAsync(tenant, [], [.. Enumerable.Range(1, limits).Select(n => Limit(n * 100))], "list-test", Noon, CancellationToken.None);
            }
            if (i % 3 != 2) await Store.ApplyBatchAsync([(tenant, [new UsageIncrement("u", Meters.InputTokens, 1, Day)])], CancellationToken.None);
            var status = i % 3 == 0 ? BudgetStatuses.Throttled : i % 7 == 0 ? BudgetStatuses.Warning : i % 5 == 0 ? BudgetStatuses.Ok : null;
            if (status is not null) await Store.SaveStatusAsync(tenant, status, Noon, CancellationToken.None);
            expected[tenant] = (status ?? BudgetStatuses.Ok, limits);
        }

        var pages = await AllPages();
        Assert.Equal(8, pages.Count);
        var listed = pages.SelectMany(p => p).ToList();
        Assert.Equal(expected.Keys, listed.Select(t => t.Tenant));
        Assert.Equal(expected.Values, listed.Select(t => (t.Status, t.Limits)));

        foreach (var status in new[] { BudgetStatuses.Ok, BudgetStatuses.Warning, BudgetStatuses.Throttled })
            Assert.Equal(expected.Where(e => e.Value.Status == status).Select(e => e.Key),
                (await AllPages(status, limit: 17)).SelectMany(p => p).Select(t => t.Tenant));
        Assert.Equal(expected.Keys.Where(t => t.StartsWith("beta-", StringComparison.Ordinal)),
            (await AllPages(prefix: "beta-")).SelectMany(p => p).Select(t => t.Tenant));
        Assert.Equal(expected.Where(e => e.Key.StartsWith("alpha-1", StringComparison.Ordinal) && e.Value.Status == BudgetStatuses.Throttled).Select(e => e.Key),
            (await AllPages(BudgetStatuses.Throttled, "alpha-1", limit: 5)).SelectMany(p => p).Select(t => t.Tenant));
        Assert.Empty((await Tenants(prefix: "gamma")).Tenants);
        Assert.Null((await Tenants(prefix: "gamma")).NextCursor);
    }

    [Fact]
    public async Task A_tenant_lists_the_latest_of_its_quota_change_status_change_and_stored_usage()
    {
        await Quotas.SaveAsync("late-status", [], [Limit(10)], "list-test", Noon.AddDays(-3), CancellationToken.None);
        await Store.SaveStatusAsync("late-status", BudgetStatuses.Warning, Noon.AddDays(-1), CancellationToken.None);
        await Quotas.SaveAsync("late-quota", [], [Limit(10), Limit(20)], "list-test", Noon.AddDays(-1), CancellationToken.None);
        await Store.SaveStatusAsync("late-quota", BudgetStatuses.Ok, Noon.AddDays(-2), CancellationToken.None);
        await Quotas.SaveAsync("late-usage", [], [Limit(10)], "list-test", Noon.AddDays(-2), CancellationToken.None);
        var beforeUsage = DateTimeOffset.UtcNow.AddSeconds(-5);
        await Store.ApplyBatchAsync([("late-usage", [new UsageIncrement("u", Meters.InputTokens, 1, Day)])], CancellationToken.None);

        var tenants = (await Tenants()).Tenants.ToDictionary(t => t.Tenant);
        Assert.Equal(new TenantSummary("late-status", BudgetStatuses.Warning, 1, Noon.AddDays(-1)), tenants["late-status"]);
        Assert.Equal(new TenantSummary("late-quota", BudgetStatuses.Ok, 2, Noon.AddDays(-1)), tenants["late-quota"]);
        Assert.InRange(tenants["late-usage"].UpdatedAt, beforeUsage, DateTimeOffset.UtcNow.AddSeconds(5));
    }

    [Fact]
    public async Task A_tenant_list_cursor_stays_put_while_tenants_are_added_before_and_after_it()
    {
        foreach (var tenant in new[] { "c-10", "c-20", "c-30", "c-40", "c-50" })
            await Store.SaveStatusAsync(tenant, BudgetStatuses.Ok, Noon, CancellationToken.None);
        var first = await Tenants(limit: 2);
        Assert.Equal(["c-10", "c-20"], first.Tenants.Select(t => t.Tenant));
        Assert.NotNull(first.NextCursor);

        // Added while the client reads: one before the cursor (not shown), one within the next page, one at the end.
        await Quotas.SaveAsync("c-15", [], [Limit(1)], "list-test", Noon, CancellationToken.None);
        await Store.ApplyBatchAsync([("c-25", [new UsageIncrement("u", Meters.InputTokens, 1, Day)])], CancellationToken.None);
        await Store.SaveStatusAsync("c-60", BudgetStatuses.Throttled, Noon, CancellationToken.None);

        var second = await Tenants(after: ListTenants.After(first.NextCursor), limit: 2);
        Assert.Equal(["c-25", "c-30"], second.Tenants.Select(t => t.Tenant));
        var third = await Tenants(after: ListTenants.After(second.NextCursor!), limit: 2);
        Assert.Equal(["c-40", "c-50"], third.Tenants.Select(t => t.Tenant));
        var last = await Tenants(after: ListTenants.After(third.NextCursor!), limit: 2);
        Assert.Equal(["c-60"], last.Tenants.Select(t => t.Tenant));
        Assert.Null(last.NextCursor);
    }

    private Task<AlertListView> Alerts(string? tenant = null, DateTimeOffset? since = null, (DateTimeOffset, long)? before = null, int limit = 100) =>
        ListAlerts.ReadAsync(DataSource, new ListAlerts.Query(tenant, since, before, limit), CancellationToken.None);

    private async Task<List<AlertView>> AllAlerts(string? tenant = null, DateTimeOffset? since = null, int limit = 7)
    {
        var alerts = new List<AlertView>();
        var page = await Alerts(tenant, since, limit: limit);
        var pages = 1;
        alerts.AddRange(page.Alerts);
        while (page.NextCursor is not null)
        {
            Assert.Equal(limit, page.Alerts.Count);
            page = await Alerts(tenant, since, ListAlerts.Before(page.NextCursor), limit);
            alerts.AddRange(page.Alerts);
            Assert.True(++pages < 100, "the pages never ended");
        }
        return alerts;
    }

    private static BudgetAlert Alert(string tenant, int n, DateTimeOffset at, string kind = AlertKinds.Soft, decimal? forecast = null) =>
        new(tenant, Meters.InputTokens, Periods.Day, Day.AddDays(-n), kind, 80 + n, 100, at, forecast);

    [Fact]
    public async Task Alerts_are_listed_newest_first_by_tenant_and_since_in_stable_pages()
    {
        // 30 alerts of two tenants, some sharing a moment: the id orders those.
        for (var n = 0; n < 30; n++)
            Assert.True(await Store.TryRecordAlertAsync(Alert(n % 2 == 0 ? "alerts-a" : "alerts-b", n, Noon.AddMinutes(n / 3)), CancellationToken.None));
        Assert.True(await Store.TryRecordAlertAsync(Alert("alerts-a", 99, Noon.AddHours(1), AlertKinds.Forecast, 123.5m), CancellationToken.None));
        Assert.False(await Store.TryRecordAlertAsync(Alert("alerts-a", 99, Noon.AddHours(2), AlertKinds.Forecast, 200m), CancellationToken.None));

        var all = await AllAlerts();
        Assert.Equal(31, all.Count);
        Assert.Equal(all.OrderByDescending(a => a.At).ThenByDescending(a => a.Used).ToList(), all);
        Assert.Equal(new AlertView("alerts-a", AlertKinds.Forecast, Meters.InputTokens, Periods.Day, 100, 179, 123.5m, Noon.AddHours(1)), all[0]);
        Assert.All(all.Skip(1), a => Assert.Null(a.Forecast));

        Assert.Equal(all.Where(a => a.Tenant == "alerts-b"), await AllAlerts("alerts-b", limit: 4));
        Assert.Equal(all.Where(a => a.At >= Noon.AddMinutes(5)), await AllAlerts(since: Noon.AddMinutes(5), limit: 3));
        Assert.Empty((await Alerts("alerts-c")).Alerts);

        // Alerts sent while a client pages are not shown on its later pages, and nothing is shown twice.
        var first = await Alerts(limit: 10);
        for (var n = 30; n < 35; n++) await Store.TryRecordAlertAsync(Alert("alerts-a", n, Noon.AddHours(3)), CancellationToken.None);
        var rest = await Alerts(before: ListAlerts.Before(first.NextCursor!), limit: 100);
        Assert.Equal(all, first.Alerts.Concat(rest.Alerts));
    }

    [Fact]
    public async Task The_grain_stores_each_alert_once_however_often_it_re_evaluates_and_the_list_survives_a_silo_restart()
    {
        var clock = new FakeTimeProvider(Noon);
        const string tenant = "alerts-grain";
        var silo = await BudgetSilo.StartAsync(Database, clock);
        try
        {
            var grain = silo.Grains.GetGrain<ITenantBudgetGrain>(tenant);
            await grain.SetQuota([new QuotaLimit(Meters.InputTokens, Periods.Day, 100, 80, Enforcements.Alert)], "list-test");
            async Task Use(string id, decimal quantity)
            {
                var stored = Assert.Single(await silo.Store.ApplyBatchAsync([(tenant, [new UsageIncrement(id, Meters.InputTokens, quantity, Day)])], CancellationToken.None));
                await grain.Applied(stored.Usage, stored.Sequence, stored.Previous);
            }
            await Use("u1", 85);
            await grain.Refresh();
            clock.Advance(TimeSpan.FromMinutes(1));
            await Use("u2", 10);
            await Use("u3", 10);
            await grain.Refresh();
            await Use("u4", 1);
        }
        finally
        {
            await silo.DisposeAsync();
        }

        AlertView[] expected =
        [
            new(tenant, AlertKinds.Limit, Meters.InputTokens, Periods.Day, 100, 105, null, Noon.AddMinutes(1)),
            new(tenant, AlertKinds.Soft, Meters.InputTokens, Periods.Day, 100, 85, null, Noon),
        ];
        Assert.Equal(expected, (await Alerts(tenant)).Alerts);

        // A new silo activates the grain, which evaluates the same crossings again: the store already holds them.
        clock.Advance(TimeSpan.FromMinutes(1));
        await using var again = await BudgetSilo.StartAsync(Database, clock);
        var restarted = again.Grains.GetGrain<ITenantBudgetGrain>(tenant);
        Assert.Equal(BudgetStatuses.Warning, (await restarted.GetBudget()).Status);
        await restarted.Refresh();
        Assert.Equal(expected, (await Alerts(tenant)).Alerts);
    }
}
