namespace Metering.Billing.Chargeback.Teams;

/// <summary>A <see cref="TeamRequest"/> body's fields as read, before they are checked.</summary>
public sealed record TeamFields(string? Name, string? CostCenter, string? Parent);

/// <summary>
/// The pure rules of the team tree and the tenants' mappings: given what is stored, the event an admin's change appends,
/// or the errors naming the field that is wrong (then nothing is appended).
/// </summary>
public static class TeamRules
{
    /// <summary>Defines or changes <paramref name="team"/>: its parent must be a team, and no team may end up below itself.</summary>
    public static TeamDefined? Define(TeamDirectory directory, string team, TeamFields body, string by, DateTimeOffset now, ICollection<FieldError> errors)
    {
        if (body.Parent is { } parent)
        {
            if (!directory.Teams.ContainsKey(parent)) errors.Add(new("parent", $"is not a team: define '{parent}' first"));
            else if (directory.WouldCycle(team, parent))
                errors.Add(new("parent", $"would make a cycle: {string.Join(" → ", new[] { team, parent }.Concat(directory.AncestorsOf(parent).TakeWhile(a => a != team)).Append(team))}"));
        }
        return errors.Count > 0 ? null : new TeamDefined(team, body.Name!.Trim(), body.CostCenter!, body.Parent, now, by);
    }

    /// <summary>Maps <paramref name="tenant"/> to <paramref name="team"/>, which must be defined first.</summary>
    public static TenantTeamAssigned? Assign(IReadOnlyDictionary<string, TeamRecord> teams, string tenant, string team, string by, DateTimeOffset now,
        ICollection<FieldError> errors)
    {
        if (!teams.ContainsKey(team)) errors.Add(new("team", $"is not a team: define it with PUT /v1/teams/{team} first"));
        return errors.Count > 0 ? null : new TenantTeamAssigned(tenant, team, now, by);
    }
}
