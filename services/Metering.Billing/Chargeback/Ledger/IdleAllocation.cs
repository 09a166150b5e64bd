using Metering.Billing.Chargeback.Capacity;

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

    /// <summary>How many months after a period its late usage and voids may be posted on (usage is accepted up to 62 days late).</summary>
    public const int LateMonths = 3;

    /// <summary>The months whose balances may hold GPU use of <paramref name="period"/>: the period and the next <see cref="LateMonths"/>.</summary>
    public static List<string> MonthsHolding(string period)
    {
        var months = new List<string> { period };
        for (var i = 0; i < LateMonths; i++) months.Add(BillingPeriod.Next(months[^1]));
        return months;
    }

    /// <summary>
    /// Metered GPU seconds of <paramref name="period"/> per GPU type and team in the ledger balances: the period's own
    /// <c>gpu_seconds</c> lines and those posted on later months as corrections of it (usage that arrived after
    /// finalize, voids of a finalized month); corrections of other months left out.
    /// </summary>
    public static Dictionary<string, IReadOnlyDictionary<string, decimal>> MeteredSeconds(string period, IEnumerable<LedgerBalance> balances) =>
        balances.SelectMany(b => b.Lines.Where(l => (l.AdjustmentFor ?? b.Month) == period))
            .Where(l => l.Meter == Meters.GpuSeconds && l.GpuType is not null)
            .GroupBy(l => l.GpuType!)
            .ToDictionary(g => g.Key, g => (IReadOnlyDictionary<string, decimal>)g.GroupBy(l => l.Team).ToDictionary(t => t.Key, t => t.Sum(l => l.Quantity)));

    public static CapacityAllocationView Allocate(CapacityItem item, IReadOnlyDictionary<string, decimal> meteredSecondsByTeam)
    {
        var seconds = UsingTeams(meteredSecondsByTeam);
        var metered = seconds.Sum(t => t.Value);
        var provisioned = item.GpuHours * SecondsPerHour;
        var idleSeconds = Math.Max(0, provisioned - metered);
        var idleCost = PricingRule.ToCents(item.Cost * idleSeconds / provisioned);

        IReadOnlyList<TeamShareView> shares;
        if (idleCost == 0) shares = [];
        else if (metered == 0) shares = [new TeamShareView(TeamDirectory.Unallocated, 0, Money.Format(idleCost))];
        else
        {
            var cents = (long)(idleCost * 100);
            var exact = seconds.Select(t => (t.Key, t.Value, Cents: cents * t.Value / metered)).ToList();
            var floors = exact.Select(e => (long)Math.Floor(e.Cents)).ToArray();
            var left = cents - floors.Sum();
            foreach (var i in Enumerable.Range(0, exact.Count).OrderByDescending(i => exact[i].Cents - floors[i]).ThenBy(i => exact[i].Key, StringComparer.Ordinal).Take((int)left))
                floors[i]++;
            shares = exact.Select((e, i) => new TeamShareView(e.Key, Hours(e.Value), Money.Format(floors[i] / 100m))).Where(s => s.Amount != "0.00").ToList();
        }
        return new CapacityAllocationView(item.GpuType, item.GpuHours, item.Cost.ToString(CultureInfo.InvariantCulture), Hours(metered), Hours(idleSeconds), Money.Format(idleCost), shares);
    }

    private static List<KeyValuePair<string, decimal>> UsingTeams(IReadOnlyDictionary<string, decimal>? meteredSecondsByTeam) =>
        (meteredSecondsByTeam ?? new Dictionary<string, decimal>()).Where(t => t.Value > 0).OrderBy(t => t.Key, StringComparer.Ordinal).ToList();

    private static decimal Hours(decimal seconds) => Math.Round(seconds / SecondsPerHour, 6, MidpointRounding.ToEven);
}
