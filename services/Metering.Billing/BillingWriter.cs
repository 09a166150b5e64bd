using Npgsql;
using Wolverine.Marten;

namespace Metering.Billing;

/// <summary>
/// What a Billing write locks: a transaction-scoped PostgreSQL advisory lock on its key. Writers of the same thing take
/// the same key, so they run one after the other; writers of different things do not wait for each other.
/// </summary>
public readonly record struct BillingLock(string Key)
{
    /// <summary>Every month of the tenant (usage, finalize, void), including months whose stream does not exist yet.</summary>
    public static BillingLock Tenant(string tenant) => new($"billing-tenant:{tenant}");

    /// <summary>The <c>rate-card</c> stream: versions are numbered without gaps or twins and judged against the list they follow.</summary>
    public static BillingLock RateCard { get; } = new("billing-rate-card");

    /// <summary>The team tree: two admins cannot together build a cycle.</summary>
    public static BillingLock TeamTree { get; } = new("billing-team-tree");

    /// <summary>One tenant's team mapping: its history gets one change at a time.</summary>
    public static BillingLock TeamMapping(string tenant) => new($"billing-team-mapping:{tenant}");

    /// <summary>One month's capacity cost.</summary>
    public static BillingLock CapacityCost(string period) => new($"billing-capacity-cost:{period}");
}

/// <summary>
/// The one writer of Billing: every append to Billing's event store from a request or a consumer (usage, finalize, void,
/// rate cards, teams and mappings, capacity cost) goes through a <see cref="BillingTransaction"/> it begins, which takes
/// the write's locks before it reads anything.
/// </summary>
/// <remarks>
/// One locking rule: transaction-scoped advisory locks (<see cref="BillingLock"/>), taken first, in one statement,
/// sorted (so two writes that share keys cannot deadlock). They cover things whose stream does not exist yet (an
/// exclusive fetch of a stream locks nothing until the stream exists, and a finalize, a void and a late usage each touch
/// two months); a consumer batch locks all of its tenants in one statement, where exclusive fetches would cost a round
/// trip per stream; and holding them, appends need no version check (<c>EventAppendMode.Quick</c>). Reads come after the
/// locks, so the decision is made on what no other writer can change before the commit.
/// </remarks>
public sealed class BillingWriter(IDocumentStore store, BillingDatabase database)
{
    /// <param name="outbox">For a transaction that publishes messages: they are stored with its events and leave after the commit.</param>
    public async Task<BillingTransaction> BeginAsync(IEnumerable<BillingLock> locks, CancellationToken ct, IMartenOutbox? outbox = null)
    {
        var connection = await database.DataSource.OpenConnectionAsync(ct);
        NpgsqlTransaction? transaction = null;
        try
        {
            transaction = await connection.BeginTransactionAsync(ct);
            await LockAsync(locks, connection, transaction, ct);
            // Marten commits the transaction when it saves (so that Wolverine sends the outbox's messages only after it).
            var session = store.LightweightSession(Marten.Services.SessionOptions.ForTransaction(transaction, shouldAutoCommit: true));
            outbox?.Enroll(session);
            return new BillingTransaction(connection, transaction, session, outbox);
        }
        catch
        {
            if (transaction is not null) await transaction.DisposeAsync();
            await connection.DisposeAsync();
            throw;
        }
    }

    private static async Task LockAsync(IEnumerable<BillingLock> locks, NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken ct)
    {
        // A lock that cannot be had in 30 s fails the transaction instead of waiting for ever (a batch is retried).
        await using var command = new NpgsqlCommand(
            "set local lock_timeout = '30s'; " +
            "select count(pg_advisory_xact_lock(hashtextextended(k, 0))) from (select distinct unnest(@keys) as k order by 1) as sorted",
            connection, transaction);
        command.Parameters.AddWithValue("keys", locks.Select(l => l.Key).Distinct(StringComparer.Ordinal).ToArray());
        await command.ExecuteScalarAsync(ct);
    }
}

/// <summary>
/// One write of Billing, under its locks: reads of the state it decides on, the appends the decision returns, the
/// messages it publishes, and the edge's own statements on <see cref="Connection"/>, all committed together by
/// <see cref="CommitAsync"/> (disposed without it, nothing is written).
/// </summary>
public sealed class BillingTransaction : IAsyncDisposable
{
    private readonly NpgsqlConnection _connection;
    private readonly NpgsqlTransaction _transaction;
    private readonly IDocumentSession _session;
    private readonly IMartenOutbox? _outbox;
    private bool _changed;

    internal BillingTransaction(NpgsqlConnection connection, NpgsqlTransaction transaction, IDocumentSession session, IMartenOutbox? outbox)
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

    /// <summary>Appends a decision's events to a stream (quick: the locks serialise the stream's writers).</summary>
    public void Append(string stream, params object[] events)
    {
        _session.Events.Append(stream, events);
        _changed = true;
    }

    /// <summary>Appends an event under an id chosen before (one the edge's own statements already refer to).</summary>
    public void Append(string stream, Guid id, object e)
    {
        _session.Events.Append(stream, e).Events[^1].Id = id;
        _changed = true;
    }

    /// <summary>Inserts a document (one with the same id already stored fails the commit).</summary>
    public void Insert<T>(T document) where T : notnull
    {
        _session.Insert(document);
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
