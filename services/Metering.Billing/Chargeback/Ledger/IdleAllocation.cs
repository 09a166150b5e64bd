using System.Globalization;
using Metering.Billing.Chargeback.Capacity;
using Metering.Billing.Chargeback.Teams;
using Metering.Contracts.Billing;
using Metering.Contracts.Usage;

namespace Metering.Billing.Chargeback.Ledger;

/// <summary>
/// Spreads a GPU type's idle capacity cost over the teams that used it. Idle cost = round_half_even(cost × (provisioned
/// seconds − metered seconds) ÷ provisioned seconds, 2); each team's share is proportional to its metered seconds, in
/// whole cents by largest remainder (ties to the lower team id), so the shares add up to the idle cost exactly. With no
/// metered use at all, the idle cost goes to <see cref="TeamDirectory.Unallocated"/>.
/// </summary>
public static class IdleAllocation
{
    public const decimal SecondsPerHour = 3_600m;

    /// <summary>
    /// Metered GPU seconds per GPU type and team in a month's ledger balances: its <c>gpu_seconds</c> usage lines,
    /// corrections of other months left out.
    /// </summary>
    public static Dictionary<string, IReadOnlyDictionary<string, decimal>> MeteredSeconds(IEnumerable<LedgerBalance> balances) =>
        balances.SelectMany(b => b.Lines)
            .Where(l => l.Meter == Meters.GpuSeconds && l.AdjustmentFor is null && l.GpuType is not null)
            .GroupBy(l => l.GpuType!)
            .ToDictionary(g => g.Key, g => (IReadOnlyDictionary<string, decimal>)g.GroupBy(l => l.Team).ToDictionary(t => t.Key, t => t.Sum(l => l.Quantity)));

    /// <summary>The metered hours an allocation counts: the use of the teams that used the GPU type.</summary>
    public static decimal MeteredHours(IReadOnlyDictionary<string, decimal>? meteredSecondsByTeam) =>
        Hours(UsingTeams(meteredSecondsByTeam).Sum(t => t.Value));

    public static CapacityAllocationView Allocate(CapacityItem item, IReadOnlyDictionary<string, decimal> meteredSecondsByTeam)
    {
        var seconds = UsingTeams(meteredSecondsByTeam);
        var metered = seconds.Sum(t => t.Value);
        var provisioned = item.GpuHours * SecondsPerHour;
        var idleSeconds = Math.Max(0, provisioned - metered);
        var idleCost = Math.Round(item.Cost * idleSeconds / provisioned, 2, MidpointRounding.ToEven);

        IReadOnlyList<TeamShareView> shares;
        if (idleCost == 0) shares = [];
        else if (metered == 0) shares = [new TeamShareView(TeamDirectory.Unallocated, 0, Money(idleCost))];
        else
        {
            var cents = (long)(idleCost * 100);
            var exact = seconds.Select(t => (t.Key, t.Value, Cents: cents * t.Value / metered)).ToList();
            var floors = exact.Select(e => (long)Math.Floor(e.Cents)).ToArray();
            var left = cents - floors.Sum();
            foreach (var i in Enumerable.Range(0, exact.Count).OrderByDescending(i => exact[i].Cents - floors[i]).ThenBy(i => exact[i].Key, StringComparer.Ordinal).Take((int)left))
                floors[i]++;
            shares = exact.Select((e, i) => new TeamShareView(e.Key, Hours(e.Value), Money(floors[i] / 100m))).Where(s => s.Amount != "0.00").ToList();
        }
        return new CapacityAllocationView(item.GpuType, item.GpuHours, item.Cost.ToString(CultureInfo.InvariantCulture), Hours(metered), Hours(idleSeconds), Money(idleCost), shares);
    }

    private static List<KeyValuePair<string, decimal>> UsingTeams(IReadOnlyDictionary<string, decimal>? meteredSecondsByTeam) =>
        (meteredSecondsByTeam ?? new Dictionary<string, decimal>()).Where(t => t.Value > 0).OrderBy(t => t.Key, StringComparer.Ordinal).ToList();

    private static decimal Hours(decimal seconds) => Math.Round(seconds / SecondsPerHour, 6, MidpointRounding.ToEven);

    private static string Money(decimal amount) => amount.ToString("0.00", CultureInfo.InvariantCulture);
}
