using Metering.Billing.Benchmarks;
using Metering.Billing.Rebuilds;

namespace Metering.IntegrationTests;

/// <summary>
/// A rebuild's progress (<see cref="RebuildProgress"/>) on a real event store of its own: logged while the projection
/// rebuilds, as the furthest event its shard reached against the store's last, and nothing once it is disposed.
/// </summary>
public sealed class RebuildProgressTests() : BillingStorageTests("rebuild_progress")
{
    private const int Events = 3_000;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        foreach (var chunk in Enumerable.Range(1, Events).Chunk(500))
        {
            await using var session = Billing.Store.LightweightSession();
            session.Events.Append(RateCardHistory.StreamKey, chunk.Select(v => (object)new RateCardVersionAdded(v, "USD", new DateOnly(2026, 1, 1).AddDays(v),
                [new(Meters.InputTokens, "llama-4-70b", null, 0.60m)], DateTimeOffset.UnixEpoch, "test")).ToArray());
            await session.SaveChangesAsync();
        }
    }

    [Fact]
    public async Task A_rebuild_logs_how_far_it_has_got_while_it_runs_and_nothing_after()
    {
        var output = new StringWriter();
        using var daemon = await Billing.Store.BuildProjectionDaemonAsync(logger: NullLogger.Instance);

        await using (await RebuildProgress.StartAsync(Billing.Store, "rate cards", new ProgressLogger(output), CancellationToken.None, every: TimeSpan.FromMilliseconds(20)))
        {
            await daemon.RebuildProjectionAsync(typeof(RateCardHistoryProjection), TimeSpan.FromMinutes(1), CancellationToken.None);
            // A few more reports once it is done: they show the shard at the store's last event.
            await Task.Delay(200);
        }
        var logged = output.ToString();
        await Task.Delay(200);

        Assert.Equal(logged, output.ToString());
        var lines = logged.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(lines);
        Assert.All(lines, l => Assert.Matches(@"^Rebuilding rate cards for \d+ s: (at event [\d,]+ of 3,000 in the event store|starting \(3,000 events in the event store\))$", l));
        Assert.EndsWith("at event 3,000 of 3,000 in the event store", lines[^1], StringComparison.Ordinal);
    }
}
