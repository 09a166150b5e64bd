using System.Net;
using Metering.Budgets.Clustering;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Runtime;

namespace Metering.IntegrationTests;

public sealed class PostgresMembershipTableTests : IAsyncLifetime
{
    // timestamptz keeps microseconds; whole microseconds round-trip exactly.
    private static readonly DateTime Now = new(DateTime.UtcNow.Ticks / 10 * 10, DateTimeKind.Utc);

    private readonly NpgsqlDataSource _dataSource = NpgsqlDataSource.Create(TestInfrastructure.Postgres);
    private readonly List<string> _clusters = [];
    private readonly PostgresMembershipTable _table;

    public PostgresMembershipTableTests() => _table = NewCluster();

    public async Task InitializeAsync()
    {
        await MembershipSchema.MigrateAsync(_dataSource, CancellationToken.None);
        await _table.InitializeMembershipTable(tryInitTableVersion: true);
    }

    public async Task DisposeAsync()
    {
        await using var command = _dataSource.CreateCommand(
            $"delete from {MembershipSchema.Silos} where cluster_id = any(@clusters); delete from {MembershipSchema.Versions} where cluster_id = any(@clusters)");
        command.Parameters.AddWithValue("clusters", _clusters.ToArray());
        await command.ExecuteNonQueryAsync();
        await _dataSource.DisposeAsync();
    }

    private PostgresMembershipTable NewCluster()
    {
        var clusterId = TestInfrastructure.UniqueTenant("membership");
        _clusters.Add(clusterId);
        return new PostgresMembershipTable(_dataSource, Options.Create(new ClusterOptions { ClusterId = clusterId, ServiceId = "membership-tests" }));
    }

    private static SiloAddress Silo(int port, int generation = 1) => SiloAddress.New(new IPEndPoint(IPAddress.Loopback, port), generation);

    private static MembershipEntry Entry(SiloAddress silo, SiloStatus status = SiloStatus.Joining, DateTime? alive = null) => new()
    {
        SiloAddress = silo,
        Status = status,
        SuspectTimes = [],
        ProxyPort = silo.Endpoint.Port + 1000,
        HostName = "budgets-host",
        SiloName = $"budgets-{silo.Endpoint.Port}",
        StartTime = alive ?? Now,
        IAmAliveTime = alive ?? Now,
    };

    private static async Task InsertAsync(PostgresMembershipTable table, MembershipEntry entry)
    {
        var version = (await table.ReadAll()).Version;
        Assert.True(await table.InsertRow(entry, version.Next()));
    }

    private static async Task<(MembershipEntry Entry, string Etag, TableVersion Version)> ReadAsync(PostgresMembershipTable table, SiloAddress silo)
    {
        var data = await table.ReadRow(silo);
        var (entry, etag) = Assert.Single(data.Members);
        return (entry, etag, data.Version);
    }

    private static void AssertSameEntry(MembershipEntry expected, MembershipEntry actual)
    {
        Assert.Equal(expected.SiloAddress, actual.SiloAddress);
        Assert.Equal(expected.Status, actual.Status);
        Assert.NotNull(actual.SuspectTimes);
        Assert.Equal(
            (expected.SuspectTimes ?? []).Select(s => (s.Item1, s.Item2)),
            actual.SuspectTimes.Select(s => (s.Item1, s.Item2)));
        Assert.Equal(expected.ProxyPort, actual.ProxyPort);
        Assert.Equal(expected.HostName, actual.HostName);
        Assert.Equal(expected.SiloName, actual.SiloName);
        Assert.Equal(expected.RoleName, actual.RoleName);
        Assert.Equal(expected.UpdateZone, actual.UpdateZone);
        Assert.Equal(expected.FaultZone, actual.FaultZone);
        Assert.Equal(expected.StartTime, actual.StartTime);
        Assert.Equal(expected.IAmAliveTime, actual.IAmAliveTime);
    }

    [Fact]
    public async Task A_new_cluster_is_empty_at_the_initial_version()
    {
        var data = await _table.ReadAll();

        Assert.Empty(data.Members);
        Assert.Equal(0, data.Version.Version);
    }

    [Fact]
    public async Task Inserting_with_the_current_version_etag_stores_the_row_and_the_new_version_with_a_new_etag()
    {
        var initial = (await _table.ReadAll()).Version;

        Assert.True(await _table.InsertRow(Entry(Silo(11111)), initial.Next()));

        var data = await _table.ReadAll();
        Assert.Equal(Silo(11111), Assert.Single(data.Members).Item1.SiloAddress);
        Assert.Equal(1, data.Version.Version);
        Assert.NotEqual(initial.VersionEtag, data.Version.VersionEtag);
    }

    [Fact]
    public async Task Inserting_with_a_stale_version_etag_fails_and_changes_nothing()
    {
        var initial = (await _table.ReadAll()).Version;
        Assert.True(await _table.InsertRow(Entry(Silo(11111)), initial.Next()));
        var current = (await _table.ReadAll()).Version;

        Assert.False(await _table.InsertRow(Entry(Silo(11112)), initial.Next()));

        var data = await _table.ReadAll();
        Assert.Equal(Silo(11111), Assert.Single(data.Members).Item1.SiloAddress);
        Assert.Equal(current, data.Version);
    }

    [Fact]
    public async Task Inserting_a_silo_that_is_already_there_fails_and_changes_nothing()
    {
        await InsertAsync(_table, Entry(Silo(11111)));
        var current = (await _table.ReadAll()).Version;

        Assert.False(await _table.InsertRow(Entry(Silo(11111), SiloStatus.Active), current.Next()));

        var (entry, _, version) = await ReadAsync(_table, Silo(11111));
        Assert.Equal(SiloStatus.Joining, entry.Status);
        Assert.Equal(current, version);
    }

    [Fact]
    public async Task Initializing_again_keeps_the_rows_and_the_version()
    {
        await InsertAsync(_table, Entry(Silo(11111)));
        var before = await _table.ReadAll();

        await _table.InitializeMembershipTable(tryInitTableVersion: true);

        var after = await _table.ReadAll();
        Assert.Equal(before.Version, after.Version);
        Assert.Single(after.Members);
    }

    [Fact]
    public async Task Every_field_round_trips_through_ReadRow_and_ReadAll()
    {
        var silo = Silo(11111, generation: 123456789);
        var entry = new MembershipEntry
        {
            SiloAddress = silo,
            Status = SiloStatus.Active,
            SuspectTimes = [Tuple.Create(Silo(11112, 7), Now.AddSeconds(-3)), Tuple.Create(Silo(11113, 8), Now.AddMilliseconds(-1.5))],
            ProxyPort = 30001,
            HostName = "budgets-0.internal",
            SiloName = "budgets-0",
            RoleName = "budgets",
            UpdateZone = 4,
            FaultZone = 2,
            StartTime = Now.AddMinutes(-5).AddTicks(10),
            IAmAliveTime = Now.AddTicks(-7_654_320),
        };
        await InsertAsync(_table, Entry(Silo(11114)));
        await InsertAsync(_table, entry);

        var row = await _table.ReadRow(silo);
        var all = await _table.ReadAll();

        var (read, etag) = Assert.Single(row.Members);
        AssertSameEntry(entry, read);
        Assert.Equal(DateTimeKind.Utc, read.IAmAliveTime.Kind);
        Assert.Equal(2, all.Members.Count);
        var (fromAll, etagFromAll) = Assert.IsType<Tuple<MembershipEntry, string>>(all.TryGet(silo));
        AssertSameEntry(entry, fromAll);
        Assert.Equal(etag, etagFromAll);
        Assert.Equal(all.Version, row.Version);
        Assert.Equal(2, row.Version.Version);
    }

    [Fact]
    public async Task An_entry_without_suspicions_role_or_times_reads_back_with_an_empty_suspect_list()
    {
        var entry = new MembershipEntry { SiloAddress = Silo(11111), Status = SiloStatus.Created, HostName = "h", SiloName = "s" };

        await InsertAsync(_table, entry);

        var (read, _, _) = await ReadAsync(_table, Silo(11111));
        Assert.NotNull(read.SuspectTimes);
        Assert.Empty(read.SuspectTimes);
        Assert.Null(read.RoleName);
        Assert.Equal(default, read.StartTime);
        Assert.Equal(default, read.IAmAliveTime);
    }

    [Fact]
    public async Task Reading_a_missing_row_answers_no_member_and_the_current_version()
    {
        await InsertAsync(_table, Entry(Silo(11111)));

        var data = await _table.ReadRow(Silo(11112));

        Assert.Empty(data.Members);
        Assert.Equal((await _table.ReadAll()).Version, data.Version);
    }

    [Fact]
    public async Task Updating_with_the_current_row_and_version_etags_stores_the_row_and_the_new_version()
    {
        await InsertAsync(_table, Entry(Silo(11111)));
        var (entry, etag, version) = await ReadAsync(_table, Silo(11111));
        entry.Status = SiloStatus.Active;
        entry.SuspectTimes = [Tuple.Create(Silo(11112), Now)];

        Assert.True(await _table.UpdateRow(entry, etag, version.Next()));

        var (updated, newEtag, newVersion) = await ReadAsync(_table, Silo(11111));
        AssertSameEntry(entry, updated);
        Assert.NotEqual(etag, newEtag);
        Assert.Equal(version.Version + 1, newVersion.Version);
        Assert.NotEqual(version.VersionEtag, newVersion.VersionEtag);
    }

    [Fact]
    public async Task Updating_with_a_stale_row_etag_fails_and_changes_nothing()
    {
        await InsertAsync(_table, Entry(Silo(11111)));
        var (entry, staleEtag, version) = await ReadAsync(_table, Silo(11111));
        entry.Status = SiloStatus.Active;
        Assert.True(await _table.UpdateRow(entry, staleEtag, version.Next()));
        var current = await ReadAsync(_table, Silo(11111));

        entry.Status = SiloStatus.Dead;
        Assert.False(await _table.UpdateRow(entry, staleEtag, current.Version.Next()));

        var after = await ReadAsync(_table, Silo(11111));
        Assert.Equal(SiloStatus.Active, after.Entry.Status);
        Assert.Equal(current.Etag, after.Etag);
        Assert.Equal(current.Version, after.Version);
    }

    [Fact]
    public async Task Updating_with_a_stale_version_etag_fails_and_changes_nothing()
    {
        await InsertAsync(_table, Entry(Silo(11111)));
        var (entry, etag, staleVersion) = await ReadAsync(_table, Silo(11111));
        await InsertAsync(_table, Entry(Silo(11112)));
        var current = (await _table.ReadAll()).Version;

        entry.Status = SiloStatus.Active;
        Assert.False(await _table.UpdateRow(entry, etag, staleVersion.Next()));

        var after = await ReadAsync(_table, Silo(11111));
        Assert.Equal(SiloStatus.Joining, after.Entry.Status);
        Assert.Equal(etag, after.Etag);
        Assert.Equal(current, after.Version);
    }

    [Fact]
    public async Task Updating_a_missing_row_fails_and_changes_nothing()
    {
        await InsertAsync(_table, Entry(Silo(11111)));
        var current = (await _table.ReadAll()).Version;

        Assert.False(await _table.UpdateRow(Entry(Silo(11112), SiloStatus.Active), "no-such-etag", current.Next()));

        var data = await _table.ReadAll();
        Assert.Single(data.Members);
        Assert.Equal(current, data.Version);
    }

    [Fact]
    public async Task A_heartbeat_changes_only_IAmAliveTime_and_keeps_earlier_reads_usable_for_updates()
    {
        await InsertAsync(_table, Entry(Silo(11111)));
        var (entry, etag, version) = await ReadAsync(_table, Silo(11111));

        var heartbeat = Entry(Silo(11111), SiloStatus.Dead, alive: Now.AddSeconds(30));
        await _table.UpdateIAmAlive(heartbeat);

        var (afterHeartbeat, etagAfterHeartbeat, versionAfterHeartbeat) = await ReadAsync(_table, Silo(11111));
        Assert.Equal(Now.AddSeconds(30), afterHeartbeat.IAmAliveTime);
        Assert.Equal(SiloStatus.Joining, afterHeartbeat.Status);
        Assert.Equal(entry.StartTime, afterHeartbeat.StartTime);
        Assert.Equal(version, versionAfterHeartbeat);
        Assert.Equal(etag, etagAfterHeartbeat);

        entry.Status = SiloStatus.Active;
        Assert.True(await _table.UpdateRow(entry, etag, version.Next()));
    }

    [Fact]
    public async Task An_update_from_an_older_read_does_not_move_the_heartbeat_back()
    {
        await InsertAsync(_table, Entry(Silo(11111)));
        var (entry, etag, version) = await ReadAsync(_table, Silo(11111));
        await _table.UpdateIAmAlive(Entry(Silo(11111), alive: Now.AddSeconds(30)));

        entry.Status = SiloStatus.Active;
        Assert.True(await _table.UpdateRow(entry, etag, version.Next()));

        var (updated, _, _) = await ReadAsync(_table, Silo(11111));
        Assert.Equal(SiloStatus.Active, updated.Status);
        Assert.Equal(Now.AddSeconds(30), updated.IAmAliveTime);
    }

    [Fact]
    public async Task Cleanup_removes_only_dead_silos_not_heard_of_since_the_cutoff()
    {
        var longAgo = Now.AddDays(-10);
        var deadLongAgo = Entry(Silo(11111), SiloStatus.Dead, alive: longAgo);
        var deadRecently = Entry(Silo(11112), SiloStatus.Dead, alive: longAgo);
        deadRecently.IAmAliveTime = Now.AddHours(-1);
        var declaredDeadRecently = Entry(Silo(11113), SiloStatus.Dead, alive: longAgo);
        declaredDeadRecently.SuspectTimes = [Tuple.Create(Silo(11114), Now.AddMinutes(-1))];
        var startedRecently = Entry(Silo(11115), SiloStatus.Dead, alive: longAgo);
        startedRecently.StartTime = Now.AddMinutes(-2);
        var activeLongAgo = Entry(Silo(11116), SiloStatus.Active, alive: longAgo);
        var shuttingDownLongAgo = Entry(Silo(11117), SiloStatus.ShuttingDown, alive: longAgo);
        foreach (var entry in new[] { deadLongAgo, deadRecently, declaredDeadRecently, startedRecently, activeLongAgo, shuttingDownLongAgo })
            await InsertAsync(_table, entry);
        var otherCluster = NewCluster();
        await InsertAsync(otherCluster, Entry(Silo(11111), SiloStatus.Dead, alive: longAgo));
        var version = (await _table.ReadAll()).Version;

        await _table.CleanupDefunctSiloEntries(new DateTimeOffset(Now.AddDays(-7)));

        var data = await _table.ReadAll();
        Assert.Equal(
            new[] { 11112, 11113, 11115, 11116, 11117 },
            data.Members.Select(m => m.Item1.SiloAddress.Endpoint.Port).Order().ToArray());
        Assert.Equal(version, data.Version);
        Assert.Single((await otherCluster.ReadAll()).Members);
    }

    [Fact]
    public async Task Deleting_a_cluster_removes_its_rows_and_version_and_no_other_cluster()
    {
        await InsertAsync(_table, Entry(Silo(11111)));
        await InsertAsync(_table, Entry(Silo(11112)));
        var otherCluster = NewCluster();
        await InsertAsync(otherCluster, Entry(Silo(11111)));
        var otherVersion = (await otherCluster.ReadAll()).Version;
        var clusterId = _clusters[0];

        await _table.DeleteMembershipTableEntries(clusterId);

        var data = await _table.ReadAll();
        Assert.Empty(data.Members);
        Assert.Equal(0, data.Version.Version);
        Assert.Single((await otherCluster.ReadAll()).Members);
        Assert.Equal(otherVersion, (await otherCluster.ReadAll()).Version);
        // A silo starting afterwards joins the emptied cluster from its initial version.
        Assert.True(await _table.InsertRow(Entry(Silo(11113)), data.Version.Next()));
    }

    [Fact]
    public async Task Concurrent_inserts_from_the_same_version_let_exactly_one_silo_in()
    {
        var version = (await _table.ReadAll()).Version;

        var results = await Task.WhenAll(Enumerable.Range(0, 8)
            .Select(i => Task.Run(() => _table.InsertRow(Entry(Silo(11111 + i)), version.Next()))));

        Assert.Single(results, inserted => inserted);
        var data = await _table.ReadAll();
        Assert.Single(data.Members);
        Assert.Equal(1, data.Version.Version);
    }

    [Fact]
    public async Task Concurrent_updates_from_the_same_read_let_exactly_one_through()
    {
        await InsertAsync(_table, Entry(Silo(11111)));
        await InsertAsync(_table, Entry(Silo(11112)));
        var read = await _table.ReadAll();

        var results = await Task.WhenAll(read.Members.SelectMany(m => Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            var entry = Entry(m.Item1.SiloAddress, SiloStatus.Active);
            return _table.UpdateRow(entry, m.Item2, read.Version.Next());
        }))));

        Assert.Single(results, updated => updated);
        var data = await _table.ReadAll();
        Assert.Single(data.Members, m => m.Item1.Status == SiloStatus.Active);
        Assert.Equal(read.Version.Version + 1, data.Version.Version);
    }
}
