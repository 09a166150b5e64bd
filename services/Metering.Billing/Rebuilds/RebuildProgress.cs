namespace Metering.Billing.Rebuilds;

/// <summary>
/// While one projection rebuilds, logs every <see cref="Every"/> how far it has got: the furthest event its shards
/// have reached against the store's last event. Its shards are the ones whose progress moved since the rebuild began
/// (nothing else runs meanwhile: a rebuild needs Billing's consumers stopped), so no shard naming rule is assumed.
/// </summary>
public sealed class RebuildProgress : IAsyncDisposable
{
    public static readonly TimeSpan Every = TimeSpan.FromSeconds(2);

    private readonly CancellationTokenSource _stop = new();
    private readonly Task _reporting;

    private RebuildProgress(IDocumentStore store, string projection, ILogger logger, IReadOnlyDictionary<string, long> before, long last, TimeSpan every) =>
        _reporting = ReportAsync(store, projection, logger, before, last, every, _stop.Token);

    /// <param name="every">How often it logs; <see cref="Every"/> unless given.</param>
    public static async Task<RebuildProgress> StartAsync(IDocumentStore store, string projection, ILogger logger, CancellationToken ct, TimeSpan? every = null)
    {
        var before = (await store.Advanced.AllProjectionProgress(token: ct)).ToDictionary(s => s.ShardName, s => s.Sequence, StringComparer.Ordinal);
        await using var session = store.QuerySession();
        var last = (await session.AdvancedSql.QueryAsync<long>($"select coalesce(max(seq_id), 0) from {store.Options.Events.DatabaseSchemaName}.mt_events", ct)).Single();
        return new RebuildProgress(store, projection, logger, before, last, every ?? Every);
    }

    private static async Task ReportAsync(IDocumentStore store, string projection, ILogger logger, IReadOnlyDictionary<string, long> before, long last, TimeSpan every,
        CancellationToken stop)
    {
        var started = DateTime.UtcNow;
        using var ticker = new PeriodicTimer(every);
        try
        {
            while (await ticker.WaitForNextTickAsync(stop))
            {
                var moved = (await store.Advanced.AllProjectionProgress(token: stop))
                    .Where(s => !before.TryGetValue(s.ShardName, out var was) || was != s.Sequence)
                    .Select(s => (long?)s.Sequence).Max();
                if (moved is { } reached)
                    logger.LogInformation("Rebuilding {Projection} for {Seconds:F0} s: at event {Reached:N0} of {Last:N0} in the event store",
                        projection, (DateTime.UtcNow - started).TotalSeconds, reached, last);
                else
                    logger.LogInformation("Rebuilding {Projection} for {Seconds:F0} s: starting ({Last:N0} events in the event store)",
                        projection, (DateTime.UtcNow - started).TotalSeconds, last);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _reporting;
        _stop.Dispose();
    }
}
