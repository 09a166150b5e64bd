using Metering.Billing.Chargeback.Teams;
using Metering.Contracts.Billing;

namespace Metering.IntegrationTests;

/// <summary>Teams and mappings written through the Billing writer against a real PostgreSQL, in a schema of its own that it removes afterwards.</summary>
public sealed class TeamStoreTests : IAsyncLifetime
{
    private readonly BillingSchema _billing = new("team_store_tests");
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    public async Task InitializeAsync()
    {
        await _billing.CreateAsync();
        await DefineAsync("org", null);
        await DefineAsync("nlp", "org");
        await DefineAsync("vision", "org");
    }

    public async Task DisposeAsync() => await _billing.DisposeAsync();

    private BillingWriter Writer => new(_billing.Store, _billing.Database);

    private async Task<TeamView> DefineAsync(string team, string? parent)
    {
        var errors = new List<FieldError>();
        var view = await TeamWrites.DefineAsync(Writer, team, new TeamFields(team.ToUpperInvariant(), "CC-1", parent), "admin", Now, errors, CancellationToken.None);
        Assert.Empty(errors);
        return view!;
    }

    private async Task<TenantTeamView> AssignAsync(string tenant, string team)
    {
        var errors = new List<FieldError>();
        var view = await TeamWrites.AssignAsync(Writer, tenant, team, "admin", Now, errors, CancellationToken.None);
        Assert.Empty(errors);
        return view!;
    }

    private async Task<TeamDirectory> DirectoryAsync()
    {
        await using var session = _billing.Store.QuerySession();
        return await TeamDirectory.LoadAsync(session, CancellationToken.None);
    }

    /// <summary>The directory as the events say, folded in order (what the ledger keeps).</summary>
    private async Task<TeamDirectory> FoldedAsync()
    {
        await using var session = _billing.Store.QuerySession();
        var events = await session.Events.QueryAllRawEvents().OrderBy(e => e.Sequence).ToListAsync();
        return events.Select(e => e.Data).Aggregate(TeamDirectory.Empty, (d, e) => e switch
        {
            TeamDefined defined => d.Apply(defined),
            TenantTeamAssigned assigned => d.Apply(assigned),
            _ => d,
        });
    }

    private static void AssertSame(TeamDirectory expected, TeamDirectory actual)
    {
        Assert.Equal(expected.Teams.OrderBy(t => t.Key), actual.Teams.OrderBy(t => t.Key));
        Assert.Equal(expected.Tenants.Keys.Order(), actual.Tenants.Keys.Order());
        foreach (var (tenant, history) in expected.Tenants) Assert.Equal(history, actual.Tenants[tenant]);
    }

    /// <summary>Each document's <c>mt_version</c>, a fresh id per write of it.</summary>
    private async Task<Dictionary<string, string>> VersionsAsync(string table)
    {
        await using var command = _billing.Database.DataSource.CreateCommand(
            $"select id, mt_version::text from {_billing.Store.Options.DatabaseSchemaName}.{table}");
        await using var reader = await command.ExecuteReaderAsync();
        var versions = new Dictionary<string, string>();
        while (await reader.ReadAsync()) versions[reader.GetString(0)] = reader.GetString(1);
        return versions;
    }

    [Fact]
    public async Task Mappings_read_back_as_the_events_folded_in_order_and_a_team_lists_its_tenants_now()
    {
        var first = await AssignAsync("chat", "nlp");
        Assert.Equal(("chat", "nlp"), (first.Tenant, first.Team));
        Assert.Equal([new TenantTeamChange("nlp", Now, "admin")], first.History);
        await AssignAsync("search", "nlp");
        var moved = await AssignAsync("chat", "vision");

        Assert.Equal(["nlp", "vision"], moved.History.Select(c => c.Team));
        Assert.Equal("vision", moved.Team);
        var directory = await DirectoryAsync();
        AssertSame(await FoldedAsync(), directory);
        Assert.Equal(["search"], directory.TenantsOf("nlp"));
        // Redefining a team answers with its tenants now (the index on each history's current team).
        Assert.Equal(["chat"], (await DefineAsync("vision", "org")).Tenants);
        Assert.Equal(["search"], (await DefineAsync("nlp", "org")).Tenants);
        await using var session = _billing.Store.QuerySession();
        Assert.Equal("vision", (await TeamDirectory.LoadAsync(session, CancellationToken.None, ["chat"])).TeamOf("chat"));
        Assert.Equal(["chat"], (await TeamDirectory.LoadAsync(session, CancellationToken.None, ["chat"])).Tenants.Keys);
    }

    [Fact]
    public async Task A_mapping_rewrites_no_document_but_its_tenants_history()
    {
        for (var i = 0; i < 20; i++) await AssignAsync($"tenant-{i}", i % 2 == 0 ? "nlp" : "vision");
        var trees = await VersionsAsync("mt_doc_teamtree");
        var histories = await VersionsAsync("mt_doc_tenantteamhistory");

        await AssignAsync("tenant-3", "nlp");
        await AssignAsync("newcomer", "vision");

        Assert.Equal(trees, await VersionsAsync("mt_doc_teamtree"));
        var after = await VersionsAsync("mt_doc_tenantteamhistory");
        Assert.Equal(histories.Count + 1, after.Count);
        Assert.Equal(["newcomer", "tenant-3"], after.Where(h => !histories.TryGetValue(h.Key, out var before) || before != h.Value).Select(h => h.Key).Order());
    }

    [Fact]
    public async Task Concurrent_mappings_of_one_tenant_and_of_many_all_land()
    {
        await Task.WhenAll(Enumerable.Range(0, 12).Select(i => Task.Run(() => AssignAsync("busy", i % 2 == 0 ? "nlp" : "vision"))));
        await Task.WhenAll(Enumerable.Range(0, 12).Select(i => Task.Run(() => AssignAsync($"many-{i}", "nlp"))));

        var directory = await DirectoryAsync();
        Assert.Equal(12, directory.Tenants["busy"].Count);
        Assert.Equal(13, directory.Tenants.Count);
        AssertSame(await FoldedAsync(), directory);
    }

    [Fact]
    public async Task A_mapping_to_a_team_not_defined_is_refused_naming_the_team_and_writes_nothing()
    {
        var errors = new List<FieldError>();
        Assert.Null(await TeamWrites.AssignAsync(Writer, "chat", "research", "admin", Now, errors, CancellationToken.None));
        Assert.Equal("team", Assert.Single(errors).Field);
        Assert.Empty((await DirectoryAsync()).Tenants);
    }

    [Fact]
    public async Task A_store_written_when_the_directory_was_one_document_is_projected_once_at_migration()
    {
        // As stored before: every event on the teams stream, and neither the tree nor the histories.
        await _billing.AppendAsync(TeamDirectory.StreamKey, new TenantTeamAssigned("chat", "nlp", Now, "admin"), new TenantTeamAssigned("chat", "vision", Now, "admin"),
            new TenantTeamAssigned("search", "nlp", Now, "admin"), new TeamDefined("nlp", "Language", "CC-9", "org", Now, "admin"));
        await using (var forget = _billing.Store.LightweightSession())
        {
            forget.DeleteWhere<TeamTree>(_ => true);
            forget.DeleteWhere<TenantTeamHistory>(_ => true);
            await forget.SaveChangesAsync();
        }
        Assert.Empty((await DirectoryAsync()).Teams);

        Assert.True(await TeamStore.ProjectStoredTeamsAsync(_billing.Store, NullLogger.Instance, CancellationToken.None));

        var directory = await DirectoryAsync();
        AssertSame(await FoldedAsync(), directory);
        Assert.Equal("Language", directory.Teams["nlp"].Name);
        Assert.Equal(["nlp", "vision"], directory.Tenants["chat"].Select(c => c.Team));
        Assert.False(await TeamStore.ProjectStoredTeamsAsync(_billing.Store, NullLogger.Instance, CancellationToken.None));
    }

    [Fact]
    public async Task Team_events_are_pinned_to_the_names_marten_gave_them_before_so_stored_events_still_read()
    {
        // A store without the pins, as Billing's was: the names it stores under are the pinned ones.
        using var unpinned = DocumentStore.For(o =>
        {
            o.Connection(TestInfrastructure.Postgres);
            o.DatabaseSchemaName = _billing.Store.Options.DatabaseSchemaName;
            o.Events.StreamIdentity = JasperFx.Events.StreamIdentity.AsString;
        });
        await using (var session = unpinned.LightweightSession())
        {
            session.Events.Append("unpinned", new TeamDefined("x", "X", "CC-1", null, Now, "admin"), new TenantTeamAssigned("y", "x", Now, "admin"));
            await session.SaveChangesAsync();
        }
        await using var command = _billing.Database.DataSource.CreateCommand(
            $"select type from {_billing.Store.Options.Events.DatabaseSchemaName}.mt_events where stream_id = 'unpinned' order by seq_id");
        await using var reader = await command.ExecuteReaderAsync();
        var types = new List<string>();
        while (await reader.ReadAsync()) types.Add(reader.GetString(0));
        Assert.Equal([TeamStore.TeamDefinedName, TeamStore.TenantTeamAssignedName], types);

        await using var query = _billing.Store.QuerySession();
        Assert.IsType<TenantTeamAssigned>((await query.Events.FetchStreamAsync("unpinned"))[1].Data);
    }
}
