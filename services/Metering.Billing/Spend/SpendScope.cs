using System.Security.Claims;
using Marten;
using Metering.Billing.Chargeback.Teams;
using Metering.ServiceDefaults;

namespace Metering.Billing.Spend;

/// <summary>
/// What a reader of spend may read (PRODUCT §5a), for every endpoint built on the spend tables: an admin everything; a
/// viewer its team and the teams below it. Without <c>team</c> a viewer reads that subtree; a <c>team</c> outside it,
/// or a <c>tenant</c> neither mapped to it now nor charged to it from <c>from</c> to <c>to</c>, is forbidden.
/// </summary>
public static class SpendScope
{
    /// <returns>Forbidden, or the team whose subtree is read (null: every team).</returns>
    public static async Task<(bool Forbidden, string? Team)> OfAsync(ClaimsPrincipal user, string? tenant, string? team, DateOnly from, DateOnly to,
        IDocumentStore store, SpendQuery query, CancellationToken ct)
    {
        if (user.ViewerTeam() is not { } viewer) return (false, team);
        await using var session = store.QuerySession();
        var directory = await TeamDirectory.LoadAsync(session, ct);
        if (team is not null && !directory.Covers(viewer, team)) return (true, null);
        if (tenant is not null && !directory.Covers(viewer, directory.TeamOf(tenant))
            && !await query.ChargedToAnyAsync(tenant, SpendQuery.TeamsBelow(directory, viewer), from, to, ct))
            return (true, null);
        return (false, team ?? viewer);
    }
}
