namespace Metering.Budgets.Clustering;

/// <summary>
/// The PostgreSQL tables behind <see cref="PostgresMembershipTable"/>: one version row per cluster, which every
/// membership change locks and bumps, and one row per silo incarnation.
/// </summary>
public static class MembershipSchema
{
    public const string Versions = $"{BudgetStore.Schema}.orleans_membership_version";
    public const string Silos = $"{BudgetStore.Schema}.orleans_membership";

    /// <summary>The version a cluster has before its first membership change (and after its entries were deleted).</summary>
    public const int InitialVersion = 0;
    public const string InitialEtag = "0";

    public static async Task MigrateAsync(NpgsqlDataSource dataSource, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using var command = new NpgsqlCommand($"""
            {BudgetStore.MigrationLock};
            create schema if not exists {BudgetStore.Schema};
            create table if not exists {Versions} (
                cluster_id text primary key,
                version integer not null,
                etag text not null);
            create table if not exists {Silos} (
                cluster_id text not null,
                silo text not null,
                status text not null,
                suspecting_silos text[] not null,
                suspect_times timestamptz[] not null,
                proxy_port integer not null,
                host_name text not null,
                silo_name text not null,
                role_name text,
                update_zone integer not null,
                fault_zone integer not null,
                start_time timestamptz not null,
                i_am_alive_time timestamptz not null,
                etag text not null,
                primary key (cluster_id, silo));
            """, connection, transaction);
        await command.ExecuteNonQueryAsync(ct);
        await transaction.CommitAsync(ct);
    }
}

/// <summary>Creates the membership tables before the silo starts (hosted services start in registration order).</summary>
internal sealed class MembershipSchemaMigration(NpgsqlDataSource dataSource) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => MembershipSchema.MigrateAsync(dataSource, cancellationToken);
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
