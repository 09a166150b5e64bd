using Npgsql;

namespace Metering.Billing;

/// <summary>Billing's PostgreSQL, for the statements that go around Marten (advisory locks, receipts).</summary>
public sealed record BillingDatabase(NpgsqlDataSource DataSource)
{
    /// <summary>
    /// Everything that writes a tenant's usage or invoices takes the tenant's transaction-scoped lock: overlapping
    /// batches (two instances during a rebalance, a redelivery racing the original) and a finalize never interleave.
    /// Sorted, so two batches never deadlock.
    /// </summary>
    public static async Task LockTenantsAsync(IEnumerable<string> tenants, NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken ct)
    {
        // A lock that cannot be had in 30 s fails the transaction instead of waiting for ever (the batch is retried).
        await using var command = new NpgsqlCommand(
            "set local lock_timeout = '30s'; " +
            "select count(pg_advisory_xact_lock(hashtextextended('billing-tenant:' || t, 0))) from (select distinct unnest(@tenants) as t order by 1) as sorted",
            connection, transaction);
        command.Parameters.AddWithValue("tenants", tenants.Distinct().ToArray());
        await command.ExecuteScalarAsync(ct);
    }
}
