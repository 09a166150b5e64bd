using System.Diagnostics;
using System.Globalization;
using Marten;
using Metering.Benchmarks;
using Metering.Billing.Invoices;
using Metering.Billing.RateCards;
using Metering.Billing.Rebuilds;
using Metering.Billing.Usage;
using Metering.Billing.TenantMonths;
using Metering.Contracts.Usage;
using Metering.Pricing;

namespace Metering.Billing.Benchmarks;

/// <summary>
/// <c>./metering bench billing</c>: on a schema of its own, records N usage events of one tenant and month through the
/// recorder (Billing's storage rate, without Kafka), reads the invoice many times, and rebuilds every projection.
/// </summary>
public static class BillingBenchmark
{
    /// <summary>How often the recording and the rebuild write a progress line to <c>progress</c>.</summary>
    public static readonly TimeSpan ProgressEvery = TimeSpan.FromSeconds(2);

    public static async Task<string> RunAsync(string postgres, int events, CancellationToken ct, TextWriter? progress = null, BenchmarkSummary? summary = null)
    {
        summary ??= new BenchmarkSummary();
        var report = new List<string> { $"billing benchmark {DateTime.UtcNow:yyyy-MM-dd HH:mm:ss}Z on {Environment.ProcessorCount} cores, {events:N0} usage events" };
        await using var bench = await BenchmarkSchema.CreateAsync(postgres, "billing_bench");
        var (_, store, dataSource) = bench;
        await using (var session = store.LightweightSession())
        {
            session.Events.Append(RateCardHistory.StreamKey, new RateCardVersionAdded(1, Money.Currency, new DateOnly(2026, 1, 1),
                [new(Meters.InputTokens, "llama-4-70b", null, 0.60m), new(Meters.OutputTokens, "llama-4-70b", null, 2.40m), new(Meters.GpuSeconds, null, "h100", 3.50m)],
                DateTimeOffset.UtcNow, "bench"));
            await session.SaveChangesAsync(ct);
        }

        var recorder = new UsageRecorder(store, new BillingDatabase(dataSource));
        var random = new Random(11);
        var month = new DateTimeOffset(2026, 10, 1, 0, 0, 0, TimeSpan.Zero);
        // The CPU is counted from the second batch on: the first pays for JIT and Marten's code generation once.
        ResourceMeter? meter = null;
        var metered = 0;
        var clock = Stopwatch.StartNew();
        var nextProgress = ProgressEvery;
        for (var start = 0; start < events; start += 10_000)
        {
            var batch = Enumerable.Range(start, Math.Min(10_000, events - start)).Select(i => (i % 3) switch
            {
                0 => new UsageEvent($"u{i}", "bench-tenant", Meters.GpuSeconds, Math.Round((decimal)random.NextDouble() * 30, 6), month.AddSeconds(i % 2_678_400), GpuType: "h100"),
                1 => new UsageEvent($"u{i}", "bench-tenant", Meters.InputTokens, random.Next(1, 100_000), month.AddSeconds(i % 2_678_400), "llama-4-70b"),
                _ => new UsageEvent($"u{i}", "bench-tenant", Meters.OutputTokens, random.Next(1, 20_000), month.AddSeconds(i % 2_678_400), "llama-4-70b"),
            }).ToList();
            await recorder.RecordAsync(batch, ct);
            if (meter is null) meter = await ResourceMeter.StartAsync(dataSource, ct);
            else metered += batch.Count;
            if (progress is not null && clock.Elapsed >= nextProgress)
            {
                progress.WriteLine(string.Create(CultureInfo.InvariantCulture, $"recorded {start + batch.Count:N0} of {events:N0} events in {clock.Elapsed.TotalSeconds:F0} s"));
                nextProgress = clock.Elapsed + ProgressEvery;
            }
        }
        report.Add(string.Create(CultureInfo.InvariantCulture, $"record: {events:N0} events in {clock.Elapsed.TotalSeconds:F1} s = {events / clock.Elapsed.TotalSeconds:F0} events/s (receipts, events, projection; batches of 10,000)"));
        summary.Add("events", events, "events");
        summary.Add("record", events / clock.Elapsed.TotalSeconds, "events/s");
        if (metered == 0) report.Add("record: one batch only, no CPU counted after it");
        else
        {
            var recording = await meter!.StopAsync(metered, ct);
            report.Add("record: " + recording + " after the first batch");
            recording.AddTo(summary, "record");
        }

        var reads = new List<double>();
        for (var i = 0; i < 200; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await using var query = store.QuerySession();
            var usage = await query.LoadAsync<MonthlyUsage>(BillingPeriod.UsageStream("bench-tenant", "2026-10"), ct);
            InvoicePricing.Price(usage!, await query.LoadAsync<RateCardHistory>(RateCardHistory.StreamKey, ct));
            reads.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        reads.Sort();
        report.Add(string.Create(CultureInfo.InvariantCulture,
            $"invoice read (load the month's projection and the rate card, price it) with {events:N0} events in the month: p50 {reads[99]:F2} ms, p99 {reads[197]:F2} ms"));
        summary.Add("invoice read p50", reads[99], "ms", "F2");
        summary.Add("invoice read p99", reads[197], "ms", "F2");

        await using (var session = store.LightweightSession())
        {
            session.DeleteWhere<MonthlyUsage>(_ => true);
            await session.SaveChangesAsync(ct);
        }
        var rebuildMeter = await ResourceMeter.StartAsync(dataSource, ct);
        clock.Restart();
        await ProjectionRebuild.RunAsync(store, progress is null ? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance : new ProgressLogger(progress), ct);
        report.Add(string.Create(CultureInfo.InvariantCulture,
            $"rebuild of every projection: {clock.Elapsed.TotalSeconds:F1} s = {events / clock.Elapsed.TotalSeconds:F0} usage events/s"));
        summary.Add("rebuild", events / clock.Elapsed.TotalSeconds, "events/s");
        var rebuilding = await rebuildMeter.StopAsync(events, ct);
        report.Add("rebuild: " + rebuilding);
        rebuilding.AddTo(summary, "rebuild");
        return string.Join(Environment.NewLine, report);
    }
}
