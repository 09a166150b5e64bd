
namespace Metering.IntegrationTests;

/// <summary>Invoices against an independent computation of PRODUCT §4's pricing rule, on a real event store of its own.</summary>
public sealed class InvoicePricingTests() : BillingStorageTests("pricing_tests")
{
    private readonly string _tenant = TestInfrastructure.UniqueTenant("pricing");

    private static readonly RateCardVersionAdded Early = new(1, "USD", new DateOnly(2026, 10, 1),
    [
        new(Meters.InputTokens, "llama-4-70b", null, 0.60m), new(Meters.OutputTokens, "llama-4-70b", null, 2.40m),
        new(Meters.InputTokens, "qwen-3-32b", null, 0.15m), new(Meters.GpuSeconds, null, "h100", 3.50m), new(Meters.GpuSeconds, null, "a100", 1.85m),
    ], DateTimeOffset.UnixEpoch, "test");

    private static readonly RateCardVersionAdded MidMonth = new(2, "USD", new DateOnly(2026, 10, 15),
    [
        new(Meters.InputTokens, "llama-4-70b", null, 0.55m), new(Meters.OutputTokens, "llama-4-70b", null, 2.20m),
        new(Meters.GpuSeconds, null, "h100", 3.25m), new(Meters.GpuSeconds, null, "a100", 1.85m),
    ], DateTimeOffset.UnixEpoch, "test");

    [Fact]
    public async Task A_month_of_generated_usage_over_two_rate_card_versions_is_priced_to_the_cent()
    {
        await Billing.AppendAsync(RateCardHistory.StreamKey, Early, MidMonth);

        var random = new Random(2026);
        string[] models = ["llama-4-70b", "qwen-3-32b", "mistral-unpriced"];
        string[] gpus = ["h100", "a100", "b200-unpriced"];
        var events = Enumerable.Range(0, 4000).Select(i =>
        {
            var at = new DateTimeOffset(2026, 10, 1, 0, 0, 0, TimeSpan.Zero).AddSeconds(random.Next(0, 31 * 86400));
            return random.Next(4) switch
            {
                0 => new UsageEvent($"e{i}", _tenant, Meters.GpuSeconds, Math.Round((decimal)random.NextDouble() * 40, 6), at, GpuType: gpus[random.Next(gpus.Length)]),
                var m => new UsageEvent($"e{i}", _tenant, m == 1 ? Meters.InputTokens : Meters.OutputTokens, random.Next(1, 200_000), at, models[random.Next(models.Length)]),
            };
        }).ToList();
        var recorder = new UsageRecorder(Billing.Store, Billing.Database);
        foreach (var batch in events.Chunk(700)) await recorder.RecordAsync(batch, CancellationToken.None);

        await using var query = Billing.Store.QuerySession();
        var usage = (await query.LoadAsync<MonthlyUsage>(BillingPeriod.UsageStream(_tenant, "2026-10")))!;
        var (lines, total) = InvoicePricing.Price(usage, await query.LoadAsync<RateCardHistory>(RateCardHistory.StreamKey));

        // The rule, computed straight from the events.
        var expected = new Dictionary<(string Meter, string? Item, decimal? Price), decimal>();
        foreach (var e in events)
        {
            var version = DateOnly.FromDateTime(e.Timestamp.UtcDateTime) >= MidMonth.EffectiveFrom ? MidMonth : Early;
            var item = e.Meter == Meters.GpuSeconds ? e.GpuType : e.Model;
            decimal? price = version.Prices.SingleOrDefault(p => p.Meter == e.Meter && (p.Meter == Meters.GpuSeconds ? p.GpuType : p.Model) == item)?.Price;
            expected[(e.Meter, item, price)] = expected.GetValueOrDefault((e.Meter, item, price)) + e.Quantity;
        }
        var expectedAmounts = expected.ToDictionary(x => x.Key, x => x.Key.Price is { } p
            ? Math.Round(x.Value * p / (x.Key.Meter == Meters.GpuSeconds ? 3600m : 1_000_000m), 2, MidpointRounding.ToEven) : (decimal?)null);

        Assert.Equal(expected.Count, lines.Count);
        foreach (var line in lines)
        {
            var key = (line.Meter, line.Model ?? line.GpuType, line.UnitPrice is null ? (decimal?)null : decimal.Parse(line.UnitPrice, System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(expected[key], line.Quantity);
            Assert.Equal(expectedAmounts[key]?.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture), line.Amount);
        }
        Assert.Equal(expectedAmounts.Values.Sum(a => a ?? 0), total);
        // Unpriced usage is on the invoice, not dropped, and both versions priced something.
        Assert.Contains(lines, l => l.Model == "mistral-unpriced" && l.UnitPrice is null && l.Amount is null);
        Assert.Contains(lines, l => l.GpuType == "b200-unpriced" && l.UnitPrice is null);
        Assert.Contains(lines, l => l.GpuType == "h100" && l.UnitPrice == "3.50");
        Assert.Contains(lines, l => l.GpuType == "h100" && l.UnitPrice == "3.25");
        // Qwen has a price only in the first version: usage after the 15th is unpriced.
        Assert.Contains(lines, l => l.Model == "qwen-3-32b" && l.UnitPrice == "0.15");
        Assert.Contains(lines, l => l.Model == "qwen-3-32b" && l.UnitPrice is null);
    }

    [Fact]
    public async Task Rebuilding_every_projection_gives_byte_identical_invoices()
    {
        await Billing.AppendAsync(RateCardHistory.StreamKey, Early, MidMonth);
        var recorder = new UsageRecorder(Billing.Store, Billing.Database);
        var random = new Random(7);
        var october = Enumerable.Range(0, 1500).Select(i => new UsageEvent($"r{i}", _tenant, Meters.InputTokens, random.Next(1, 50_000),
            new DateTimeOffset(2026, 10, 1, 0, 0, 0, TimeSpan.Zero).AddMinutes(random.Next(0, 31 * 1440)), i % 3 == 0 ? "qwen-3-32b" : "llama-4-70b")).ToList();
        foreach (var batch in october.Chunk(400)) await recorder.RecordAsync(batch, CancellationToken.None);
        await using (var session = Billing.Store.LightweightSession())
        {
            // A finalize, then a void: the compensation goes to November as a correction.
            var usage = (await session.LoadAsync<MonthlyUsage>(BillingPeriod.UsageStream(_tenant, "2026-10")))!;
            var (lines, total) = InvoicePricing.Price(usage, await session.LoadAsync<RateCardHistory>(RateCardHistory.StreamKey));
            session.Events.Append(BillingPeriod.UsageStream(_tenant, "2026-10"),
                new InvoiceFinalized(_tenant, "2026-10", lines, total.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture), DateTimeOffset.UnixEpoch, "test"));
            session.Events.Append(BillingPeriod.UsageStream(_tenant, "2026-11"), new UsageVoidRecorded(_tenant, "2026-11",
                RecordedUsage.From(october[0]), "2026-10", "test", DateTimeOffset.UnixEpoch, "test"));
            await session.SaveChangesAsync();
        }
        await recorder.RecordAsync([october[1] with { Id = "late" }], CancellationToken.None);

        async Task<string> Invoices()
        {
            await using var query = Billing.Store.QuerySession();
            var cards = await query.LoadAsync<RateCardHistory>(RateCardHistory.StreamKey);
            var months = new[] { "2026-10", "2026-11" }.Select(async m => (await query.LoadAsync<MonthlyUsage>(BillingPeriod.UsageStream(_tenant, m)))!);
            var priced = (await Task.WhenAll(months)).Select(u => u.Finalized is { } f ? (object)f : InvoicePricing.Price(u, cards).Lines);
            return System.Text.Json.JsonSerializer.Serialize(priced, Metering.Contracts.MeteringJson.Options);
        }
        var before = await Invoices();
        Assert.Contains("\"adjustment_for\":\"2026-10\"", before);

        await using (var session = Billing.Store.LightweightSession())
        {
            session.DeleteWhere<MonthlyUsage>(_ => true);
            session.DeleteWhere<RateCardHistory>(_ => true);
            await session.SaveChangesAsync();
        }
        await Metering.Billing.Rebuilds.ProjectionRebuild.RunAsync(Billing.Store, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, CancellationToken.None);

        Assert.Equal(before, await Invoices());
    }

    [Fact]
    public async Task Voids_and_late_usage_of_a_finalized_month_keep_its_frozen_prices_and_only_what_it_left_unpriced_takes_a_later_version()
    {
        await Billing.AppendAsync(RateCardHistory.StreamKey, Early, MidMonth);
        var recorder = new UsageRecorder(Billing.Store, Billing.Database);
        DateTimeOffset October(int day) => new(2026, 10, day, 12, 0, 0, TimeSpan.Zero);
        await recorder.RecordAsync([
            new UsageEvent("early", _tenant, Meters.InputTokens, 1_000_000, October(5), "llama-4-70b"),
            new UsageEvent("mid", _tenant, Meters.InputTokens, 2_000_000, October(20), "llama-4-70b"),
        ], CancellationToken.None);

        // Finalized as the endpoint does: priced with the two versions there are.
        await using (var session = Billing.Store.LightweightSession())
        {
            var usage = (await session.LoadAsync<MonthlyUsage>(BillingPeriod.UsageStream(_tenant, "2026-10")))!;
            var (lines, total) = InvoicePricing.Price(usage, await session.LoadAsync<RateCardHistory>(RateCardHistory.StreamKey));
            Assert.Equal(["0.55", "0.60"], lines.Select(l => l.UnitPrice).Order());
            session.Events.Append(BillingPeriod.UsageStream(_tenant, "2026-10"), new InvoiceFinalized(_tenant, "2026-10", lines,
                total.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture), DateTimeOffset.UnixEpoch, "test", RateCardVersions: 2));
            // Then versions for both halves of October with other prices, the second also pricing Qwen, which October left unpriced after the 15th.
            session.Events.Append(RateCardHistory.StreamKey,
                new RateCardVersionAdded(3, "USD", new DateOnly(2026, 10, 1), [new(Meters.InputTokens, "llama-4-70b", null, 9.00m)], DateTimeOffset.UnixEpoch, "test"),
                new RateCardVersionAdded(4, "USD", new DateOnly(2026, 10, 16),
                    [new(Meters.InputTokens, "llama-4-70b", null, 9.00m), new(Meters.InputTokens, "qwen-3-32b", null, 0.30m)], DateTimeOffset.UnixEpoch, "test"));
            await session.SaveChangesAsync();
        }

        // Voided as the endpoint does (without its outbox message).
        await using (var write = await new BillingWriter(Billing.Store, Billing.Database).BeginTenantMonthsAsync([_tenant], CancellationToken.None))
        {
            var recording = await write.RecordingOfAsync(_tenant, "early", CancellationToken.None);
            var outcome = TenantMonth.Void(new VoidUsageCommand(_tenant, "early", "test", "test"), recording, false,
                await write.FinalizedFromAsync([(_tenant, recording!.Batch.Month)], CancellationToken.None), DateTimeOffset.UtcNow);
            write.Append(Assert.IsType<VoidOutcome.Voided>(outcome).Event);
            await write.CommitAsync(CancellationToken.None);
        }
        await recorder.RecordAsync([
            new UsageEvent("late", _tenant, Meters.InputTokens, 1_000_000, October(25), "llama-4-70b"),
            new UsageEvent("late-qwen", _tenant, Meters.InputTokens, 1_000_000, October(25), "qwen-3-32b"),
        ], CancellationToken.None);

        await using var query = Billing.Store.QuerySession();
        var november = (await query.LoadAsync<MonthlyUsage>(BillingPeriod.UsageStream(_tenant, "2026-11")))!;
        var (adjustments, _) = InvoicePricing.Price(november, await query.LoadAsync<RateCardHistory>(RateCardHistory.StreamKey));
        Assert.All(adjustments, l => Assert.Equal("2026-10", l.AdjustmentFor));
        // The void refunds the 0.60 it was charged, the late usage pays October's 0.55 for its day; Qwen, unpriced then, takes 0.30.
        Assert.Equal(
            [("llama-4-70b", -1_000_000m, "0.60", "-0.60"), ("llama-4-70b", 1_000_000m, "0.55", "0.55"), ("qwen-3-32b", 1_000_000m, "0.30", "0.30")],
            adjustments.Select(l => (l.Model!, l.Quantity, l.UnitPrice!, l.Amount!)).OrderBy(l => l.Item1).ThenBy(l => l.Quantity));
    }
}
