using Metering.Billing.Chargeback.Ledger;

namespace Metering.Billing;

/// <summary>
/// Who may read a tenant's invoice of a month: admins, and viewers of a team at or above the tenant's team now or a team
/// the ledger charged for that month (a tenant that moved stays readable for the team that paid for it).
/// </summary>
public static class TenantAccess
{
    public static async Task<bool> MayReadAsync(ClaimsPrincipal user, string tenant, string period, IQuerySession session, CancellationToken ct)
    {
        if (user.ViewerTeam() is not { } scope) return user.IsInRole(Roles.Admin);
        var directory = await TeamDirectory.LoadAsync(session, ct, [tenant]);
        if (directory.Covers(scope, directory.TeamOf(tenant))) return true;
        return Charged(scope, directory, await session.LoadAsync<LedgerBalance>(BillingPeriod.UsageStream(tenant, period), ct));
    }

    /// <summary>Of <paramref name="tenants"/>, those a viewer of <paramref name="scope"/> may read in the period: the same rule, in two queries.</summary>
    public static async Task<IReadOnlySet<string>> ReadableAsync(string scope, string period, IEnumerable<string> tenants, IQuerySession session, CancellationToken ct)
    {
        var directory = await TeamDirectory.LoadAsync(session, ct);
        var charged = (await session.Query<LedgerBalance>().Where(b => b.Month == period).ToListAsync(ct))
            .Where(b => Charged(scope, directory, b)).Select(b => b.Tenant).ToHashSet(StringComparer.Ordinal);
        return tenants.Where(t => directory.Covers(scope, directory.TeamOf(t)) || charged.Contains(t)).ToHashSet(StringComparer.Ordinal);
    }

    private static bool Charged(string scope, TeamDirectory directory, LedgerBalance? charged) =>
        charged?.Lines.Any(l => directory.Covers(scope, l.Team)) == true;
}
