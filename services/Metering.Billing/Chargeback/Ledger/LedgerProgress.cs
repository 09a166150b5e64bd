namespace Metering.Billing.Chargeback.Ledger;

/// <summary>
/// How far the asynchronous ledger is behind the event store. Readers wait a moment for it to post what was
/// recorded before they asked, and say whether it did (<c>ledger_current</c>).
/// </summary>
public static class LedgerProgress
{
    public static Task<bool> WaitUntilCurrentAsync(IDocumentStore store, TimeSpan timeout, CancellationToken ct) =>
        WaitUntilCurrentAsync(store, LedgerProjection.Name, timeout, ct);

    /// <summary>The same wait for another asynchronous projection of the same daemon (spend).</summary>
    public static async Task<bool> WaitUntilCurrentAsync(IDocumentStore store, string projection, TimeSpan timeout, CancellationToken ct) =>
        (await WaitAsync(store, projection, timeout, ct)).Current;

    /// <summary>The same wait, also answering what it waited for: the sequence of the last event recorded before it began.</summary>
    public static async Task<(bool Current, long Target)> WaitAsync(IDocumentStore store, string projection, TimeSpan timeout, CancellationToken ct)
    {
        var target = await LastSequenceAsync(store, ct);
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (await PostedUpToAsync(store, projection, ct) >= target) return (true, target);
            if (DateTime.UtcNow >= deadline) return (false, target);
            await Task.Delay(50, ct);
        }
    }

    private static async Task<long> LastSequenceAsync(IDocumentStore store, CancellationToken ct)
    {
        await using var session = store.QuerySession();
        var sequences = await session.AdvancedSql.QueryAsync<long>(
            $"select coalesce(max(seq_id), 0) from {store.Options.Events.DatabaseSchemaName}.mt_events", ct);
        return sequences.Single();
    }

    private static async Task<long> PostedUpToAsync(IDocumentStore store, string projection, CancellationToken ct)
    {
        var progress = await store.Advanced.AllProjectionProgress(token: ct);
        return progress.Where(p => p.ShardName.StartsWith(projection, StringComparison.Ordinal)).Select(p => p.Sequence).DefaultIfEmpty(0).Max();
    }
}
