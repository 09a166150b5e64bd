using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace Metering.Budgets.Clustering;

/// <summary>
/// Orleans cluster membership in PostgreSQL, for the cluster of <see cref="ClusterOptions.ClusterId"/>.
/// Every insert or update of a silo row locks the cluster's version row (<c>select ... for update</c>), checks the
/// table etag the caller read, writes the row and stores the caller's new version with a fresh etag, in one
/// transaction; a stale etag, a duplicate or a missing row answers false and changes nothing. Heartbeats touch
/// only <c>i_am_alive_time</c>, so they leave the table version and the row etag as they were.
/// Times are stored as <c>timestamptz</c> (microsecond precision).
/// </summary>
public sealed class PostgresMembershipTable(NpgsqlDataSource dataSource, IOptions<ClusterOptions> clusterOptions) : IMembershipTable
{
    private const string Columns =
        "silo, status, suspecting_silos, suspect_times, proxy_port, host_name, silo_name, role_name, update_zone, fault_zone, start_time, i_am_alive_time, etag";

    private static readonly string SelectColumns = string.Join(", ", Columns.Split(", ").Select(column => "m." + column));

    private static readonly string InsertInitialVersion =
        $"insert into {MembershipSchema.Versions} (cluster_id, version, etag) values (@cluster, {MembershipSchema.InitialVersion}, '{MembershipSchema.InitialEtag}') on conflict do nothing";

    private readonly string _clusterId = clusterOptions.Value.ClusterId;

    public async Task InitializeMembershipTableAsync(bool tryInitTableVersion, CancellationToken cancellationToken)
    {
        if (!tryInitTableVersion) return;
        await using var command = dataSource.CreateCommand(InsertInitialVersion);
        command.Parameters.AddWithValue("cluster", _clusterId);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task DeleteMembershipTableEntriesAsync(string clusterId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            $"delete from {MembershipSchema.Silos} where cluster_id = @cluster; delete from {MembershipSchema.Versions} where cluster_id = @cluster");
        command.Parameters.AddWithValue("cluster", clusterId);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Deletes the dead silos last heard of before <paramref name="beforeDate"/>: the latest of their start, their
    /// last heartbeat and the latest suspicion vote against them, as Orleans' cleanup agent compares them.
    /// </summary>
    public async Task CleanupDefunctSiloEntriesAsync(DateTimeOffset beforeDate, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"""
            delete from {MembershipSchema.Silos}
            where cluster_id = @cluster and status = @dead
              and greatest(start_time, i_am_alive_time, (select max(t) from unnest(suspect_times) as s(t))) < @before
            """);
        command.Parameters.AddWithValue("cluster", _clusterId);
        command.Parameters.AddWithValue("dead", nameof(SiloStatus.Dead));
        command.Parameters.AddWithValue("before", beforeDate.UtcDateTime);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public Task<MembershipTableData> ReadRowAsync(SiloAddress key, CancellationToken cancellationToken) =>
        ReadAsync(key, cancellationToken);

    public Task<MembershipTableData> ReadAllAsync(CancellationToken cancellationToken) =>
        ReadAsync(null, cancellationToken);

    public Task<bool> InsertRowAsync(MembershipEntry entry, TableVersion tableVersion, CancellationToken cancellationToken) =>
        WriteAsync(tableVersion, firstOfCluster: true, $"""
            insert into {MembershipSchema.Silos} (cluster_id, {Columns})
            values (@cluster, @silo, @status, @suspecting_silos, @suspect_times, @proxy_port, @host_name, @silo_name, @role_name,
                    @update_zone, @fault_zone, @start_time, @i_am_alive_time, @etag)
            on conflict do nothing
            """, insert => MembershipRow.AddParameters(insert, entry, NewEtag()), cancellationToken);

    // A silo owns its heartbeat: an update written from another silo's older read must not move it backwards.
    public Task<bool> UpdateRowAsync(MembershipEntry entry, string etag, TableVersion tableVersion, CancellationToken cancellationToken) =>
        WriteAsync(tableVersion, firstOfCluster: false, $"""
            update {MembershipSchema.Silos} set
                status = @status, suspecting_silos = @suspecting_silos, suspect_times = @suspect_times, proxy_port = @proxy_port,
                host_name = @host_name, silo_name = @silo_name, role_name = @role_name, update_zone = @update_zone,
                fault_zone = @fault_zone, start_time = @start_time, i_am_alive_time = greatest(i_am_alive_time, @i_am_alive_time),
                etag = @etag
            where cluster_id = @cluster and silo = @silo and etag = @expected_etag
            """, update =>
            {
                update.Parameters.AddWithValue("expected_etag", etag);
                MembershipRow.AddParameters(update, entry, NewEtag());
            }, cancellationToken);

    /// <summary>
    /// A row written as Orleans' membership protocol asks: in one transaction, the cluster's version locked and checked
    /// against the one the silo read, the row written (<paramref name="sql"/> over <c>@cluster</c> and the parameters
    /// <paramref name="parameters"/> adds), the new version stored. False, with nothing written, when the version or the
    /// row does not match. <paramref name="firstOfCluster"/>: a cluster without a version row is at the initial version,
    /// as ReadAll reports it.
    /// </summary>
    private async Task<bool> WriteAsync(TableVersion tableVersion, bool firstOfCluster, string sql, Action<NpgsqlCommand> parameters, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        if (firstOfCluster)
        {
            await using var initial = new NpgsqlCommand(InsertInitialVersion, connection, transaction);
            initial.Parameters.AddWithValue("cluster", _clusterId);
            await initial.ExecuteNonQueryAsync(ct);
        }
        if (!await LockVersionAsync(connection, transaction, tableVersion, ct)) return false;

        await using (var write = new NpgsqlCommand(sql, connection, transaction))
        {
            write.Parameters.AddWithValue("cluster", _clusterId);
            parameters(write);
            if (await write.ExecuteNonQueryAsync(ct) == 0) return false;
        }

        await StoreVersionAsync(connection, transaction, tableVersion, ct);
        await transaction.CommitAsync(ct);
        return true;
    }

    /// <summary>Stores the silo's heartbeat; a silo without a row is left to Orleans, which notices it on its next read.</summary>
    public async Task UpdateIAmAliveAsync(MembershipEntry entry, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            $"update {MembershipSchema.Silos} set i_am_alive_time = @i_am_alive_time where cluster_id = @cluster and silo = @silo");
        command.Parameters.AddWithValue("cluster", _clusterId);
        command.Parameters.AddWithValue("silo", entry.SiloAddress.ToParsableString());
        command.Parameters.AddWithValue("i_am_alive_time", MembershipRow.Utc(entry.IAmAliveTime));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public Task InitializeMembershipTable(bool tryInitTableVersion) => InitializeMembershipTableAsync(tryInitTableVersion, CancellationToken.None);
    public Task DeleteMembershipTableEntries(string clusterId) => DeleteMembershipTableEntriesAsync(clusterId, CancellationToken.None);
    public Task CleanupDefunctSiloEntries(DateTimeOffset beforeDate) => CleanupDefunctSiloEntriesAsync(beforeDate, CancellationToken.None);
    public Task<MembershipTableData> ReadRow(SiloAddress key) => ReadRowAsync(key, CancellationToken.None);
    public Task<MembershipTableData> ReadAll() => ReadAllAsync(CancellationToken.None);
    public Task<bool> InsertRow(MembershipEntry entry, TableVersion tableVersion) => InsertRowAsync(entry, tableVersion, CancellationToken.None);
    public Task<bool> UpdateRow(MembershipEntry entry, string etag, TableVersion tableVersion) => UpdateRowAsync(entry, etag, tableVersion, CancellationToken.None);
    public Task UpdateIAmAlive(MembershipEntry entry) => UpdateIAmAliveAsync(entry, CancellationToken.None);

    private static string NewEtag() => Guid.NewGuid().ToString("N");

    /// <summary>The version and the rows (all, or only <paramref name="silo"/>'s) in one statement, so from one snapshot.</summary>
    private async Task<MembershipTableData> ReadAsync(SiloAddress? silo, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"""
            select v.version, v.etag, {SelectColumns}
            from (select @cluster as cluster_id) as c
            left join {MembershipSchema.Versions} as v on v.cluster_id = c.cluster_id
            left join {MembershipSchema.Silos} as m on m.cluster_id = c.cluster_id {(silo is null ? "" : "and m.silo = @silo")}
            """);
        command.Parameters.AddWithValue("cluster", _clusterId);
        if (silo is not null) command.Parameters.AddWithValue("silo", silo.ToParsableString());

        var version = new TableVersion(MembershipSchema.InitialVersion, MembershipSchema.InitialEtag);
        var rows = new List<Tuple<MembershipEntry, string>>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            if (!reader.IsDBNull(0)) version = new TableVersion(reader.GetInt32(0), reader.GetString(1));
            if (!reader.IsDBNull(2)) rows.Add(MembershipRow.Read(reader, firstColumn: 2));
        }
        return new MembershipTableData(rows, version);
    }

    /// <summary>Locks the cluster's version row and answers whether its etag is the one the caller read.</summary>
    private async Task<bool> LockVersionAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, TableVersion tableVersion, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            $"select etag from {MembershipSchema.Versions} where cluster_id = @cluster for update", connection, transaction);
        command.Parameters.AddWithValue("cluster", _clusterId);
        return await command.ExecuteScalarAsync(ct) is string stored && stored == tableVersion.VersionEtag;
    }

    private async Task StoreVersionAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, TableVersion tableVersion, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            $"update {MembershipSchema.Versions} set version = @version, etag = @etag where cluster_id = @cluster", connection, transaction);
        command.Parameters.AddWithValue("cluster", _clusterId);
        command.Parameters.AddWithValue("version", tableVersion.Version);
        command.Parameters.AddWithValue("etag", NewEtag());
        await command.ExecuteNonQueryAsync(ct);
    }
}
