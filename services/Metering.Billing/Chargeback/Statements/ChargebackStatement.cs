using Metering.Billing.Chargeback.Ledger;

namespace Metering.Billing.Chargeback.Statements;

/// <summary>
/// A month's statements from the ledger's balances: per team its usage by meter and model or GPU type, direct cost,
/// corrections and idle GPU cost; parents roll up every team below them. A viewer sees its team and the teams below.
/// </summary>
public sealed record ChargebackStatement(string Period, IReadOnlyList<LedgerBalance> Balances, CapacityAllocation? Capacity, TeamDirectory Directory,
    string? Scope)
{
    public bool Visible(string team) => Scope is null || Directory.Covers(Scope, team);

    /// <summary>The balances' lines of the teams this reader may see, with the tenant they are for.</summary>
    public IEnumerable<(string Tenant, LedgerLine Line)> Lines =>
        Balances.SelectMany(b => b.Lines.Select(l => (b.Tenant, Line: l))).Where(x => Visible(x.Line.Team) && (x.Line.Quantity != 0 || x.Line.Amount != 0));

    /// <summary>Each team's share of idle capacity: posted in chargeback mode, shown only in showback mode.</summary>
    public IEnumerable<IdleShare> IdleShares => Capacity is null
        ? []
        : Capacity.Items.SelectMany(i => i.Shares.Select(s => new IdleShare(s.Team, i.GpuType, decimal.Parse(s.Amount, CultureInfo.InvariantCulture))))
            .Where(s => Visible(s.Team));

    public bool IdleInTotals => Capacity?.Mode == CapacityModes.Chargeback;

    public ChargebackStatementView ToView(bool ledgerCurrent)
    {
        var lines = Lines.ToList();
        var idle = IdleShares.ToList();
        var teams = Directory.Teams.Keys
            .Concat(lines.Select(l => l.Line.Team))
            .Concat(idle.Select(s => s.Team))
            .Where(Visible)
            .Distinct(StringComparer.Ordinal)
            .OrderBy(t => t == TeamDirectory.Unallocated).ThenBy(t => t, StringComparer.Ordinal)
            .ToList();
        var own = teams.ToDictionary(t => t, t => Amounts(lines.Where(l => l.Line.Team == t).Select(l => l.Line), idle.Where(s => s.Team == t)));

        var views = teams.Select(team =>
        {
            var record = Directory.Teams.GetValueOrDefault(team);
            var below = teams.Where(t => Directory.Covers(team, t)).ToList();
            var rolled = (Direct: below.Sum(t => own[t].Direct), Corrections: below.Sum(t => own[t].Corrections), Idle: below.Sum(t => own[t].Idle),
                Total: below.Sum(t => own[t].Total));
            var teamLines = lines.Where(l => l.Line.Team == team).ToList();
            var usage = teamLines
                .GroupBy(l => (l.Line.Meter, l.Line.Model, l.Line.GpuType, l.Line.AdjustmentFor))
                .OrderBy(g => g.Key.AdjustmentFor ?? "", StringComparer.Ordinal).ThenBy(g => g.Key.Meter, StringComparer.Ordinal)
                .ThenBy(g => g.Key.Model ?? g.Key.GpuType, StringComparer.Ordinal)
                .Select(g => new StatementUsageView(g.Key.Meter, g.Key.Model, g.Key.GpuType, g.Key.AdjustmentFor, g.Sum(l => l.Line.Quantity),
                    Money.Format(g.Sum(l => l.Line.Amount))))
                .ToList();
            return new TeamStatementView(team, record?.Name ?? (team == TeamDirectory.Unallocated ? "Tenants without a team" : team), record?.CostCenter,
                record?.Parent, teamLines.Select(l => l.Tenant).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList(), usage,
                View(own[team]), View(rolled));
        }).ToList();
        return new ChargebackStatementView(Period, Money.Currency, Capacity?.Mode, views, Money.Format(own.Values.Sum(a => a.Total)), ledgerCurrent);
    }

    private (decimal Direct, decimal Corrections, decimal Idle, decimal Total) Amounts(IEnumerable<LedgerLine> lines, IEnumerable<IdleShare> idle)
    {
        var list = lines.ToList();
        var direct = list.Where(l => l.AdjustmentFor is null).Sum(l => l.Amount);
        var corrections = list.Where(l => l.AdjustmentFor is not null).Sum(l => l.Amount);
        var idleCost = idle.Sum(s => s.Amount);
        return (direct, corrections, idleCost, direct + corrections + (IdleInTotals ? idleCost : 0));
    }

    private static StatementAmounts View((decimal Direct, decimal Corrections, decimal Idle, decimal Total) a) =>
        new(Money.Format(a.Direct), Money.Format(a.Corrections), Money.Format(a.Idle), Money.Format(a.Total));
}
