using Marten.Events.Aggregation;
using Marten.Events.Projections;

namespace Metering.Billing.Chargeback.Teams;

/// <summary>An admin defined or changed a team.</summary>
public sealed record TeamDefined(string Team, string Name, string CostCenter, string? Parent, DateTimeOffset At, string By);

/// <summary>An admin mapped a tenant to a team; postings from then on go to that team.</summary>
public sealed record TenantTeamAssigned(string Tenant, string Team, DateTimeOffset At, string By);

public sealed record TeamRecord(string Name, string CostCenter, string? Parent);

/// <summary>
/// Every team with its parent, and every tenant's mapping history (newest last): the team tree (<see cref="TeamTree"/>)
/// and the tenants' mappings (<see cref="TenantTeamHistory"/>, one document each), read together by <see cref="LoadAsync"/>.
/// Billing keeps those two inline for the endpoints; the ledger keeps its own copy as of the events it has posted.
/// </summary>
/// <remarks>Not a document of its own: a mapping rewrote all of them (every mapping cost more as tenants were mapped).</remarks>
public sealed record TeamDirectory(IReadOnlyDictionary<string, TeamRecord> Teams, IReadOnlyDictionary<string, IReadOnlyList<TenantTeamChange>> Tenants)
{
    /// <summary>The stream of the team tree's events (and of the mappings stored before they had a stream per tenant).</summary>
    public const string StreamKey = "teams";
    /// <summary>The account of tenants mapped to no team: their cost is posted, never dropped.</summary>
    public const string Unallocated = "unallocated";

    public static TeamDirectory Empty { get; } = new(new Dictionary<string, TeamRecord>(), new Dictionary<string, IReadOnlyList<TenantTeamChange>>());

    /// <summary>The team tree and the mappings as stored now: every tenant's, or only those of <paramref name="tenants"/> when given.</summary>
    public static async Task<TeamDirectory> LoadAsync(IQuerySession session, CancellationToken ct, IReadOnlyCollection<string>? tenants = null)
    {
        var tree = await session.LoadAsync<TeamTree>(TeamTree.Key, ct);
        IReadOnlyList<TenantTeamHistory> mappings = tenants switch
        {
            null => await session.Query<TenantTeamHistory>().ToListAsync(ct),
            { Count: 0 } => [],
            _ => await session.LoadManyAsync<TenantTeamHistory>(ct, tenants),
        };
        return new TeamDirectory(tree?.Teams ?? Empty.Teams, mappings.ToDictionary(m => m.Id, m => m.Changes, StringComparer.Ordinal));
    }

    public TeamDirectory Apply(TeamDefined e) =>
        this with { Teams = new Dictionary<string, TeamRecord>(Teams) { [e.Team] = new(e.Name, e.CostCenter, e.Parent) } };

    public TeamDirectory Apply(TenantTeamAssigned e) =>
        this with
        {
            Tenants = new Dictionary<string, IReadOnlyList<TenantTeamChange>>(Tenants)
            {
                [e.Tenant] = [.. Tenants.GetValueOrDefault(e.Tenant) ?? [], new TenantTeamChange(e.Team, e.At, e.By)],
            },
        };

    /// <summary>
    /// The directory with the names and cost centres a period's postings recorded (<see cref="Ledger.PeriodTeams"/>);
    /// the hierarchy, which decides who may read what, stays as it is now.
    /// </summary>
    public TeamDirectory AsPosted(Ledger.PeriodTeams? posted)
    {
        if (posted is null || posted.Teams.Count == 0) return this;
        var teams = new Dictionary<string, TeamRecord>(Teams);
        foreach (var (team, record) in posted.Teams)
            teams[team] = new TeamRecord(record.Name, record.CostCenter, Teams.GetValueOrDefault(team)?.Parent);
        return this with { Teams = teams };
    }

    /// <summary>The team the tenant's cost goes to now: its last mapping, else <see cref="Unallocated"/>.</summary>
    public string TeamOf(string tenant) => Tenants.GetValueOrDefault(tenant) is [.., var last] ? last.Team : Unallocated;

    /// <summary>The team's parent, grandparent and so on up to its root.</summary>
    public IEnumerable<string> AncestorsOf(string team)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal) { team };
        for (var parent = Teams.GetValueOrDefault(team)?.Parent; parent is not null && seen.Add(parent); parent = Teams.GetValueOrDefault(parent)?.Parent)
            yield return parent;
    }

    /// <summary>Whether a viewer of <paramref name="scope"/> may see <paramref name="team"/>: the team itself or one below it.</summary>
    public bool Covers(string scope, string team) => team == scope || AncestorsOf(team).Contains(scope, StringComparer.Ordinal);

    /// <summary>Making <paramref name="parent"/> the parent of <paramref name="team"/> would close a loop.</summary>
    public bool WouldCycle(string team, string parent) => parent == team || AncestorsOf(parent).Contains(team, StringComparer.Ordinal);

    public IReadOnlyList<string> TenantsOf(string team) =>
        Tenants.Where(t => TeamOf(t.Key) == team).Select(t => t.Key).Order(StringComparer.Ordinal).ToList();

    public TeamView ToView(string team)
    {
        var record = Teams[team];
        return new TeamView(team, record.Name, record.CostCenter, record.Parent, TenantsOf(team));
    }
}

/// <summary>Every team with its name, cost centre and parent, projected inline from the <c>teams</c> stream.</summary>
public sealed record TeamTree(string Id, IReadOnlyDictionary<string, TeamRecord> Teams)
{
    public const string Key = TeamDirectory.StreamKey;

    public static TeamTree Empty { get; } = new(Key, new Dictionary<string, TeamRecord>());

    public TeamTree Apply(TeamDefined e) => this with { Teams = new Dictionary<string, TeamRecord>(Teams) { [e.Team] = new(e.Name, e.CostCenter, e.Parent) } };
}

/// <summary>
/// One tenant's mappings, oldest first, and the team it is mapped to now (indexed: the tenants of a team). Projected
/// inline from its <see cref="TenantTeamAssigned"/> events wherever they are stored (its own stream
/// <see cref="StreamOf"/>, or the <c>teams</c> stream before mappings had one), so a mapping writes one small document.
/// </summary>
public sealed record TenantTeamHistory(string Id, string Team, IReadOnlyList<TenantTeamChange> Changes)
{
    /// <summary>The tenant's stream of mappings: a mapping appends to no stream shared by every tenant.</summary>
    public static string StreamOf(string tenant) => $"tenant-team:{tenant}";

    public static TenantTeamHistory With(TenantTeamHistory? history, TenantTeamAssigned e) =>
        new(e.Tenant, e.Team, [.. history?.Changes ?? [], new TenantTeamChange(e.Team, e.At, e.By)]);

    public TenantTeamView ToView() => new(Id, Team, Changes);
}

public sealed class TeamTreeProjection : SingleStreamProjection<TeamTree, string>
{
    public static TeamTree Create(TeamDefined e) => TeamTree.Empty.Apply(e);

    public static TeamTree Apply(TeamDefined e, TeamTree current) => current.Apply(e);
}

public sealed class TenantTeamHistoryProjection : MultiStreamProjection<TenantTeamHistory, string>
{
    public TenantTeamHistoryProjection() => Identity<TenantTeamAssigned>(e => e.Tenant);

    public static TenantTeamHistory Create(TenantTeamAssigned e) => TenantTeamHistory.With(null, e);

    public static TenantTeamHistory Apply(TenantTeamAssigned e, TenantTeamHistory current) => TenantTeamHistory.With(current, e);
}
