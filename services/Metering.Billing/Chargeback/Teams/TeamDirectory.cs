using Marten.Events.Aggregation;

namespace Metering.Billing.Chargeback.Teams;

/// <summary>An admin defined or changed a team.</summary>
public sealed record TeamDefined(string Team, string Name, string CostCenter, string? Parent, DateTimeOffset At, string By);

/// <summary>An admin mapped a tenant to a team; postings from then on go to that team.</summary>
public sealed record TenantTeamAssigned(string Tenant, string Team, DateTimeOffset At, string By);

public sealed record TeamRecord(string Name, string CostCenter, string? Parent);

/// <summary>
/// Every team with its parent, and every tenant's mapping history (newest last), from the <c>teams</c> stream.
/// Billing keeps it inline for the endpoints; the ledger keeps its own copy as of the events it has posted.
/// </summary>
public sealed record TeamDirectory(string Id, IReadOnlyDictionary<string, TeamRecord> Teams, IReadOnlyDictionary<string, IReadOnlyList<TenantTeamChange>> Tenants)
{
    public const string StreamKey = "teams";
    /// <summary>The account of tenants mapped to no team: their cost is posted, never dropped.</summary>
    public const string Unallocated = "unallocated";

    public static TeamDirectory Empty { get; } = new(StreamKey, new Dictionary<string, TeamRecord>(), new Dictionary<string, IReadOnlyList<TenantTeamChange>>());

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

public sealed class TeamDirectoryProjection : SingleStreamProjection<TeamDirectory, string>
{
    public static TeamDirectory Create(TeamDefined e) => TeamDirectory.Empty.Apply(e);

    public static TeamDirectory Apply(TeamDefined e, TeamDirectory current) => current.Apply(e);

    public static TeamDirectory Apply(TenantTeamAssigned e, TeamDirectory current) => current.Apply(e);
}
