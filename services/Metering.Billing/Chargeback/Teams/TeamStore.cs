using JasperFx.Events.Projections;

namespace Metering.Billing.Chargeback.Teams;

/// <summary>
/// How teams and mappings are stored in Billing's Marten store: the events under fixed names (a rename of a class cannot
/// orphan the events already stored), the tree and one history per tenant projected inline.
/// </summary>
public static class TeamStore
{
    public const string TeamDefinedName = "team_defined";
    public const string TenantTeamAssignedName = "tenant_team_assigned";

    public static void Register(StoreOptions opts)
    {
        opts.Events.MapEventType<TeamDefined>(TeamDefinedName);
        opts.Events.MapEventType<TenantTeamAssigned>(TenantTeamAssignedName);
        opts.Schema.For<TeamTree>().Identity(t => t.Id);
        opts.Projections.Add<TeamTreeProjection>(ProjectionLifecycle.Inline);
        // Indexed by team: the tenants of a team, which PUT /v1/teams/{team} answers with.
        opts.Schema.For<TenantTeamHistory>().Identity(h => h.Id).Index(h => h.Team);
        opts.Projections.Add<TenantTeamHistoryProjection>(ProjectionLifecycle.Inline);
    }

    /// <summary>
    /// At migration: a store written when the directory was one document (teams and every mapping in it) has the events
    /// but neither the tree nor the histories; they are projected once from the events already stored.
    /// </summary>
    public static async Task<bool> ProjectStoredTeamsAsync(IDocumentStore store, ILogger logger, CancellationToken ct)
    {
        await using (var session = store.QuerySession())
        {
            var projected = await session.LoadAsync<TeamTree>(TeamTree.Key, ct) is not null || await session.Query<TenantTeamHistory>().AnyAsync(ct);
            if (projected || await session.Events.FetchStreamStateAsync(TeamDirectory.StreamKey, ct) is null) return false;
        }
        using var daemon = await store.BuildProjectionDaemonAsync(logger: logger);
        await daemon.RebuildProjectionAsync(typeof(TeamTreeProjection), TimeSpan.FromMinutes(30), ct);
        await daemon.RebuildProjectionAsync(typeof(TenantTeamHistoryProjection), TimeSpan.FromMinutes(30), ct);
        return true;
    }
}

/// <summary>Runs <see cref="TeamStore.ProjectStoredTeamsAsync"/> when Billing migrates its schema.</summary>
public sealed class StoredTeamsProjection(IDocumentStore store, ILogger<StoredTeamsProjection> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (await TeamStore.ProjectStoredTeamsAsync(store, logger, cancellationToken))
            logger.LogInformation("Projected the stored teams and mappings into the team tree and one history per tenant");
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
