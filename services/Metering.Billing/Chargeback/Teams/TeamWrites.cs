namespace Metering.Billing.Chargeback.Teams;

/// <summary>
/// The team tree's and the mappings' writes through the <see cref="BillingWriter"/>: the state after the lock,
/// <see cref="TeamRules"/>' decision, its event. Each returns the view to answer, or null with the errors naming the field
/// that is wrong (then nothing was written).
/// </summary>
public static class TeamWrites
{
    /// <summary>Appends the team's <see cref="TeamDefined"/> to the <c>teams</c> stream, under the tree's lock (two admins cannot together build a cycle).</summary>
    public static async Task<TeamView?> DefineAsync(BillingWriter writer, string team, TeamFields body, string by, DateTimeOffset now, ICollection<FieldError> errors,
        CancellationToken ct)
    {
        await using var write = await writer.BeginAsync([BillingLock.TeamTree], ct);
        var tree = await write.Session.LoadAsync<TeamTree>(TeamTree.Key, ct) ?? TeamTree.Empty;
        if (TeamRules.Define(new TeamDirectory(tree.Teams, TeamDirectory.Empty.Tenants), team, body, by, now, errors) is not { } defined) return null;
        write.Append(TeamDirectory.StreamKey, defined);
        var tenants = await write.Session.Query<TenantTeamHistory>().Where(h => h.Team == team).Select(h => h.Id).ToListAsync(ct);
        await write.CommitAsync(ct);
        return new TeamView(team, defined.Name, defined.CostCenter, defined.Parent, tenants.Order(StringComparer.Ordinal).ToList());
    }

    /// <summary>
    /// Appends the tenant's <see cref="TenantTeamAssigned"/> to its own stream, under its own lock: a mapping reads the tree
    /// and one history and writes one small document, however many tenants are mapped. Teams are never removed, so the
    /// team it found stays.
    /// </summary>
    public static async Task<TenantTeamView?> AssignAsync(BillingWriter writer, string tenant, string team, string by, DateTimeOffset now, ICollection<FieldError> errors,
        CancellationToken ct)
    {
        await using var write = await writer.BeginAsync([BillingLock.TeamMapping(tenant)], ct);
        var tree = await write.Session.LoadAsync<TeamTree>(TeamTree.Key, ct) ?? TeamTree.Empty;
        if (TeamRules.Assign(tree.Teams, tenant, team, by, now, errors) is not { } assigned) return null;
        var history = await write.Session.LoadAsync<TenantTeamHistory>(tenant, ct);
        write.Append(TenantTeamHistory.StreamOf(tenant), assigned);
        await write.CommitAsync(ct);
        return TenantTeamHistory.With(history, assigned).ToView();
    }
}
