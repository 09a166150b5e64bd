using Metering.UsageTopic;
using Npgsql;
using NpgsqlTypes;
using Wolverine.Marten;

namespace Metering.Billing.TenantMonths;

/// <summary>
/// The one writer of tenant-months: every append to a usage stream (recording, finalize, void) goes through a
/// <see cref="TenantMonthTransaction"/> it begins, which takes the tenants' locks before it reads anything.
/// </summary>
/// <remarks>
/// One locking rule: a transaction-scoped advisory lock per tenant, taken first, sorted. It covers every month of the
/// tenant, including months whose stream does not exist yet (an exclusive fetch of a stream locks nothing until the
/// stream exists, and a finalize, a void and a late usage each touch two months); a consumer batch locks all of its
/// tenants in one statement, where exclusive fetches would cost a round trip per stream; and holding it, appends need no
/// version check (<c>EventAppendMode.Quick</c>).
/// </remarks>
public sealed class TenantMonthWriter(IDocumentStore store, BillingDatabase database)
{
    /// <param name="outbox">For a transaction that publishes messages: they are stored with its events and leave after the commit.</param>
    public async Task<TenantMonthTransaction> BeginAsync(IEnumerable<string> tenants, CancellationToken ct, IMartenOutbox? outbox = null)
    {
        var connection = await database.DataSource.OpenConnectionAsync(ct);
        NpgsqlTransaction? transaction = null;
        try
        {
            transaction = await connection.BeginTransactionAsync(ct);
            await LockTenantsAsync(tenants, connection, transaction, ct);
            // Marten commits the transaction when it saves (so that Wolverine sends the outbox's messages only after it).
            var session = store.LightweightSession(Marten.Services.SessionOptions.ForTransaction(transaction, shouldAutoCommit: true));
            outbox?.Enroll(session);
            return new TenantMonthTransaction(connection, transaction, session, outbox);
        }
        catch
        {
            if (transaction is not null) await transaction.DisposeAsync();
            await connection.DisposeAsync();
            throw;
        }
    }

    private static async Task LockTenantsAsync(IEnumerable<string> tenants, NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken ct)
    {
        // A lock that cannot be had in 30 s fails the transaction instead of waiting for ever (a batch is retried).
        await using var command = new NpgsqlCommand(
            "set local lock_timeout = '30s'; " +
            "select count(pg_advisory_xact_lock(hashtextextended('billing-tenant:' || t, 0))) from (select distinct unnest(@tenants) as t order by 1) as sorted",
            connection, transaction);
        command.Parameters.AddWithValue("tenants", tenants.Distinct().ToArray());
        await command.ExecuteScalarAsync(ct);
    }
}

/// <summary>
/// One write of tenant-months, under the tenants' locks: reads of their state, the appends a <see cref="TenantMonth"/>
/// decision returns, and the edge's own statements on <see cref="Connection"/>, all committed together by <see cref="CommitAsync"/>
/// (disposed without it, nothing is written).
/// </summary>
public sealed class TenantMonthTransaction : IAsyncDisposable
{
    private readonly NpgsqlConnection _connection;
    private readonly NpgsqlTransaction _transaction;
    private readonly IDocumentSession _session;
    private readonly IMartenOutbox? _outbox;
    private bool _changed;

    internal TenantMonthTransaction(NpgsqlConnection connection, NpgsqlTransaction transaction, IDocumentSession session, IMartenOutbox? outbox)
    {
        _connection = connection;
        _transaction = transaction;
        _session = session;
        _outbox = outbox;
    }

    /// <summary>Reads inside the transaction (what the locks protect).</summary>
    public IQuerySession Session => _session;

    /// <summary>For an edge's own statements in the transaction (the recorder's receipts); they commit with the appends.</summary>
    public NpgsqlConnection Connection => _connection;

    public NpgsqlTransaction Transaction => _transaction;

    private string Schema => _session.DocumentStore.Options.DatabaseSchemaName;

    /// <summary>
    /// The finalized months among each of <paramref name="months"/> and those after it, through its first open one: what
    /// <see cref="TenantMonth"/> needs to know where usage lands. Open months are not loaded (the usage documents are large).
    /// </summary>
    public async Task<FinalizedMonths> FinalizedFromAsync(IEnumerable<(string Tenant, string Month)> months, CancellationToken ct)
    {
        var finalized = new List<InvoiceFinalized>();
        var asked = months.Select(m => BillingPeriod.UsageStream(m.Tenant, m.Month)).Distinct(StringComparer.Ordinal).ToArray();
        while (asked.Length > 0)
        {
            var found = await _session.Query<MonthlyUsage>().Where(u => asked.Contains(u.Id) && u.Finalized != null).ToListAsync(ct);
            finalized.AddRange(found.Select(u => u.Finalized!));
            asked = found.Select(u => BillingPeriod.UsageStream(u.Tenant, BillingPeriod.Next(u.Month))).ToArray();
        }
        return new FinalizedMonths(finalized);
    }

    public Task<MonthlyUsage?> MonthAsync(string tenant, string month, CancellationToken ct) =>
        _session.LoadAsync<MonthlyUsage>(BillingPeriod.UsageStream(tenant, month), ct);

    /// <summary>The event that recorded a usage, found through the recordings index (no scan of the batches' JSON); null when none did.</summary>
    public async Task<UsageBatchRecorded?> RecordingOfAsync(string tenant, string usageId, CancellationToken ct)
    {
        var ids = await _session.AdvancedSql.QueryAsync<Guid>(UsageRecordings.EventOfSql(Schema), ct, UsageKey.Of(tenant, usageId));
        return ids.Count == 0 ? null : (await _session.Events.LoadAsync(ids[0], ct))?.Data as UsageBatchRecorded;
    }

    public async Task<bool> IsVoidedAsync(string tenant, string usageId, CancellationToken ct) =>
        await _session.LoadAsync<VoidReceipt>(VoidReceipt.IdOf(tenant, usageId), ct) is not null;

    /// <summary>Appends a decision's event to its tenant-month's stream.</summary>
    public void Append(ITenantMonthEvent e)
    {
        _session.Events.Append(BillingPeriod.UsageStream(e.Tenant, e.Month), e);
        _changed = true;
    }

    /// <summary>Stores the usage's void receipt (a second one cannot be stored: its id is the usage's).</summary>
    public void MarkVoided(string tenant, string usageId)
    {
        _session.Insert(new VoidReceipt(VoidReceipt.IdOf(tenant, usageId)));
        _changed = true;
    }

    public async Task PublishAsync<T>(T message)
    {
        if (_outbox is null) throw new InvalidOperationException("This transaction was begun without an outbox.");
        await _outbox.PublishAsync(message);
        _changed = true;
    }

    public async Task CommitAsync(CancellationToken ct)
    {
        // Marten commits when it has something to save; otherwise only the edge's own statements (if any) are left.
        if (_changed) await _session.SaveChangesAsync(ct);
        else await _transaction.CommitAsync(ct);
    }

    public async ValueTask DisposeAsync()
    {
        await _session.DisposeAsync();
        await _transaction.DisposeAsync();
        await _connection.DisposeAsync();
    }
}
