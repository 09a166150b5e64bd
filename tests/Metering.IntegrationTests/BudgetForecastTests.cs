using Metering.Budgets.Lists;
using Microsoft.Extensions.DependencyInjection;

namespace Metering.IntegrationTests;

/// <summary>
/// Month limits' forecasts in a budget grain of a silo of its own with a fake clock: made from the day totals stored in
/// PostgreSQL (loaded when the limit is set, and after a restart), and the <c>forecast</c> alert sent once per limit and
/// period, stored, re-armed only under 90 % of the limit, and neither repeated nor forgotten across restarts. PostgreSQL
/// and Kafka are the real ones.
/// </summary>
public sealed class BudgetForecastTests() : BudgetDatabaseTests("budget_forecast")
{
    // Noon of the 18th of a 30-day month: 17 complete days and half of today.
    private static readonly DateTimeOffset Now = new(2026, 11, 18, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateOnly Today = DateOnly.FromDateTime(Now.UtcDateTime);
    private readonly FakeTimeProvider _clock = new(Now);
    private readonly string _tenant = TestInfrastructure.UniqueTenant("forecast");

    /// <summary>Usage of every day since 1 October, stored and handed to the grain as the usage consumer does.</summary>
    private async Task UseAsync(BudgetSilo silo, string id, Func<DateOnly, decimal> usage, DateOnly? only = null)
    {
        var increments = new List<UsageIncrement>();
        for (var day = only ?? new DateOnly(2026, 10, 1); day <= (only ?? Today); day = day.AddDays(1))
            increments.Add(new UsageIncrement($"{id}-{day:yyyyMMdd}", Meters.InputTokens, usage(day), day));
        var stored = Assert.Single(await silo.Store.ApplyBatchAsync([(_tenant, increments)], CancellationToken.None));
        await Grain(silo).Applied(stored.Usage, stored.Sequence, stored.Previous);
    }

    private ITenantBudgetGrain Grain(BudgetSilo silo) => silo.Grains.GetGrain<ITenantBudgetGrain>(_tenant);

    private static QuotaLimit Month(decimal limit) => new(Meters.InputTokens, Periods.Month, limit, 95, Enforcements.Alert);

    private async Task<LimitForecastView?> ForecastAsync(BudgetSilo silo) =>
        (await Grain(silo).GetBudget()).Limits.Single(l => l.Period == Periods.Month).Forecast;

    private async Task<IReadOnlyList<AlertView>> StoredAlertsAsync(BudgetSilo silo) =>
        (await ListAlerts.ReadAsync(silo.Services.GetRequiredService<NpgsqlDataSource>(), new ListAlerts.Query(_tenant, null, null, 100), CancellationToken.None)).Alerts;

    private async Task<IReadOnlyList<AlertView>> WaitForAlertsAsync(BudgetSilo silo, int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        var alerts = await StoredAlertsAsync(silo);
        while (alerts.Count < count && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
            alerts = await StoredAlertsAsync(silo);
        }
        Assert.Equal(count, alerts.Count);
        return alerts;
    }

    private static decimal Weekly(DateOnly day) =>
        (day.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday ? 200m : 900m) + day.DayNumber % 13;

    [Fact]
    public async Task The_forecast_is_made_from_the_stored_day_totals_when_the_month_limit_is_set_and_the_same_after_a_restart()
    {
        // The grain takes the usage while its tenant has only a day limit: it keeps no day totals for a forecast then.
        LimitForecastView? forecast;
        await using (var silo = await BudgetSilo.StartAsync(Database, _clock))
        {
            await Grain(silo).SetQuota([new QuotaLimit(Meters.InputTokens, Periods.Day, 1_000_000m, 80, Enforcements.Throttle)], "forecast-test");
            await UseAsync(silo, "u", Weekly);

            var view = await Grain(silo).SetQuota([Month(1_000_000m), new QuotaLimit(Meters.InputTokens, Periods.Day, 1_000_000m, 80, Enforcements.Throttle)], "forecast-test");

            // What the same days make in a budget that saw every one of them.
            var expected = new TenantBudget();
            expected.SetLimits([Month(1_000_000m)]);
            for (var day = new DateOnly(2026, 10, 1); day <= Today; day = day.AddDays(1))
                foreach (var total in PeriodTotal.Of(new UsageIncrement($"u-{day}", Meters.InputTokens, Weekly(day), day))) expected.Add(total);
            forecast = expected.View(_tenant, Now).Limits.Single().Forecast;
            Assert.NotNull(forecast);
            Assert.Equal(forecast, view.Limits[0].Forecast);
            Assert.Null(view.Limits[1].Forecast);
        }

        await using (var silo = await BudgetSilo.StartAsync(Database, _clock))
            Assert.Equal(forecast, await ForecastAsync(silo));
    }

    [Fact]
    public async Task A_forecast_over_the_limit_alerts_once_survives_restarts_and_alerts_again_only_after_falling_under_90_percent()
    {
        // 100 a day, 50 so far today: 1,750 used, 3,000 forecast for the month.
        decimal Flat(DateOnly day) => day == Today ? 50m : 100m;
        await using (var silo = await BudgetSilo.StartAsync(Database, _clock))
        {
            await Grain(silo).SetQuota([Month(2500m)], "forecast-test");
            await UseAsync(silo, "u", Flat);
            Assert.Equal(new LimitForecastView(3000m, 3000m, 3000m, new DateOnly(2026, 11, 25)), await ForecastAsync(silo));
            // The quota change has just evaluated the forecast alerts: usage right after it is evaluated when the interval ends.
            Assert.Empty(await StoredAlertsAsync(silo));
            _clock.Advance(TenantBudgetGrain.ForecastAlertInterval);
            var alert = (await WaitForAlertsAsync(silo, 1)).Single();
            Assert.Equal((AlertKinds.Forecast, Meters.InputTokens, Periods.Month, 2500m, 1750m, (decimal?)3000m, Now + TenantBudgetGrain.ForecastAlertInterval),
                (alert.Kind, alert.Meter, alert.Period, alert.Limit, alert.Used, alert.Forecast, alert.At));

            // More usage, the forecast still over the limit, and a limit raised to where the forecast is still over 90 % of it.
            _clock.Advance(TimeSpan.FromHours(6));
            await UseAsync(silo, "more", _ => 50m, only: Today);
            await Grain(silo).SetQuota([Month(3200m)], "forecast-test");
            await Grain(silo).SetQuota([Month(2500m)], "forecast-test");
            Assert.Single(await StoredAlertsAsync(silo));
        }

        await using (var silo = await BudgetSilo.StartAsync(Database, _clock))
        {
            await Grain(silo).Refresh();
            Assert.Single(await StoredAlertsAsync(silo));
        }

        // While no silo holds the tenant its limit is raised: the forecast is under 90 % of it when the grain comes back,
        // which re-arms the alert only if the grain knows one is out.
        await new QuotaStore(DataSource).SaveAsync(_tenant, [Month(2500m)], [Month(4000m)], "forecast-test", _clock.GetUtcNow(), CancellationToken.None);
        await using (var silo = await BudgetSilo.StartAsync(Database, _clock))
        {
            await Grain(silo).Refresh();
            Assert.Single(await StoredAlertsAsync(silo));
        }

        // The re-arm is stored: after another restart, the next crossing alerts again.
        await using (var silo = await BudgetSilo.StartAsync(Database, _clock))
        {
            await Grain(silo).SetQuota([Month(2500m)], "forecast-test");
            var alerts = await StoredAlertsAsync(silo);
            Assert.Equal(2, alerts.Count);
            Assert.Equal((AlertKinds.Forecast, 2500m, 1800m), (alerts[0].Kind, alerts[0].Limit, alerts[0].Used));
            Assert.True(alerts[0].Forecast > 2500m);
        }

        var sent = BudgetSilo.BroadcastAlerts(_tenant);
        Assert.Equal(2, sent.Count);
        Assert.All(sent, a => Assert.Equal((AlertKinds.Forecast, Meters.InputTokens, Periods.Month, new DateOnly(2026, 11, 1), 2500m),
            (a.Threshold, a.Meter, a.Period, a.PeriodStart, a.Limit)));
        Assert.Equal((decimal?)3000m, sent[0].Forecast);
    }
}
