
namespace Metering.IntegrationTests;

/// <summary>The Billing usage handler against a real Marten event store, in a schema of its own that it removes afterwards.</summary>
public sealed class BillingRecordingTests() : BillingStorageTests("billing_tests")
{
    private readonly string _tenant = TestInfrastructure.UniqueTenant("billing");
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    private UsageEvent Usage(string id, string meter, decimal quantity, string? model = null, string? gpu = null, DateTimeOffset? at = null) =>
        new(id, _tenant, meter, quantity, at ?? Now, model, gpu);

    private Task<int> Record(params UsageEvent[] batch) => new UsageRecorder(Billing.Store, Billing.Database).RecordAsync(batch, CancellationToken.None);

    /// <summary>Every usage recorded on the tenant's stream of the month, as the invoice's usage lists it (kept beside the stream's batch events).</summary>
    private async Task<List<RecordedUsage>> RecordedIn(DateTimeOffset at)
    {
        var page = await GetInvoiceUsage.ReadPageAsync(Billing.Database, Billing.Name, BillingPeriod.UsageStream(_tenant, BillingPeriod.Of(at)), null, null, null, 0, 10_000,
            CancellationToken.None);
        return page.Select(u => new RecordedUsage(u.Id, u.Meter, u.Quantity, u.Timestamp, u.Model, u.GpuType, u.Service)).ToList();
    }

    private async Task<MonthlyUsage?> Month(DateTimeOffset at)
    {
        await using var session = Billing.Store.QuerySession();
        return await session.LoadAsync<MonthlyUsage>(BillingPeriod.UsageStream(_tenant, BillingPeriod.Of(at)));
    }

    [Fact]
    public async Task A_redelivered_batch_is_recorded_once()
    {
        UsageEvent[] batch =
        [
            Usage("a", Meters.OutputTokens, 1000, model: "m1"), Usage("b", Meters.OutputTokens, 234, model: "m1"),
            Usage("c", Meters.InputTokens, 50, model: "m2"), Usage("d", Meters.GpuSeconds, 3.5m, gpu: "h100"),
        ];
        Assert.Equal(4, await Record(batch));
        Assert.Equal(0, await Record(batch));
        Assert.Equal(1, await Record(batch[1], Usage("e", Meters.GpuSeconds, 0.000001m, gpu: "h100")));

        var month = await Month(Now);
        Assert.NotNull(month);
        Assert.Equal(
            new[] { (Meters.GpuSeconds, (string?)null, (string?)"h100", 3.500001m), (Meters.InputTokens, "m2", null, 50m), (Meters.OutputTokens, "m1", null, 1234m) },
            month.Lines.Select(l => (l.Meter, l.Model, l.GpuType, l.Quantity)).OrderBy(l => l.Meter));

        Assert.Equal(["a", "b", "c", "d", "e"], (await RecordedIn(Now)).Select(u => u.Id).Order());
    }

    [Fact]
    public async Task A_duplicate_counts_in_the_month_of_the_usage_it_repeats_not_of_the_copys_timestamp()
    {
        var october = new DateTimeOffset(2026, 10, 31, 23, 0, 0, TimeSpan.Zero);
        var november = october.AddHours(2);
        Assert.Equal(1, await Record(Usage("a", Meters.OutputTokens, 10, model: "m1", at: october)));
        // Re-sent with a November timestamp, twice in one batch, and again later: three duplicates of October's usage.
        Assert.Equal(1, await Record(Usage("a", Meters.OutputTokens, 10, model: "m1", at: november), Usage("a", Meters.OutputTokens, 10, model: "m1", at: november),
            Usage("b", Meters.OutputTokens, 10, model: "m1", at: november), Usage("b", Meters.OutputTokens, 10, model: "m1", at: october)));
        Assert.Equal(0, await Record(Usage("a", Meters.OutputTokens, 10, model: "m1", at: november)));

        await using var command = Billing.Database.DataSource.CreateCommand(
            $"select period, duplicates from {Billing.Store.Options.DatabaseSchemaName}.{BillingStore.DuplicateCounts} order by period");
        var counts = new List<(string, long)>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) counts.Add((reader.GetString(0), reader.GetInt64(1)));
        // "b" was first recorded with its November copy: its October copy is November's duplicate.
        Assert.Equal([("2026-10", 3L), ("2026-11", 1L)], counts);
    }

    [Fact]
    public async Task Usage_lands_in_the_month_of_its_own_timestamp()
    {
        var lastMonth = new DateTimeOffset(Now.Year, Now.Month, 1, 0, 0, 0, TimeSpan.Zero).AddSeconds(-1);
        await Record(Usage("old", Meters.InputTokens, 7, model: "m"), Usage("late", Meters.InputTokens, 9, model: "m", at: lastMonth));

        Assert.Equal(7, Assert.Single((await Month(Now))!.Lines).Quantity);
        Assert.Equal(9, Assert.Single((await Month(lastMonth))!.Lines).Quantity);
    }

    [Fact]
    public async Task Consumers_racing_on_overlapping_batches_record_every_event_once()
    {
        var batch = Enumerable.Range(0, 100).Select(i => Usage($"r{i}", Meters.InputTokens, i + 1, model: "m")).ToArray();

        // Four deliveries of overlapping halves and wholes at once, as after a crash or during a rebalance.
        await Task.WhenAll(new[] { batch, batch[..60], batch[40..], batch }.Select(b => Task.Run(() => Record(b))));

        Assert.Equal(Enumerable.Range(1, 100).Sum(), Assert.Single((await Month(Now))!.Lines).Quantity);
        Assert.Equal(batch.Select(e => e.Id).Order(), (await RecordedIn(Now)).Select(u => u.Id).Order());
    }

    [Fact]
    public async Task Receipts_are_dated_by_the_utc_day_whatever_the_session_time_zone()
    {
        await using var farAway = Npgsql.NpgsqlDataSource.Create(TestInfrastructure.PostgresFarFromUtc);
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        Assert.NotEqual(today, await TestInfrastructure.SessionDateAsync(farAway));

        Assert.Equal(1, await new UsageRecorder(Billing.Store, new BillingDatabase(farAway), TimeProvider.System)
            .RecordAsync([Usage("far", Meters.InputTokens, 5, model: "m")], CancellationToken.None));

        await using var command = Billing.Database.DataSource.CreateCommand(
            $"select recorded_on from {Billing.Store.Options.DatabaseSchemaName}.{BillingStore.UsageReceipts} where usage_key = @key");
        command.Parameters.AddWithValue("key", UsageKey.Of(_tenant, "far"));
        Assert.Equal(today, (DateOnly)(await command.ExecuteScalarAsync())!);
    }
}
