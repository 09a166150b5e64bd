namespace Metering.Billing.Chargeback.Ledger;

/// <summary>The accounts of the chargeback ledger. Debits are positive amounts, credits negative; every posting sums to zero.</summary>
public static class LedgerAccounts
{
    /// <summary>A team's AI expense (tenants without a team: the team <see cref="TeamDirectory.Unallocated"/>).</summary>
    public static string Expense(string team) => $"expense:{team}";

    /// <summary>Credited with every priced usage: what the platform recovers from the teams.</summary>
    public const string CostPool = "platform:ai-cost-pool";

    /// <summary>Credited with idle GPU capacity allocated to the teams.</summary>
    public const string GpuCapacity = "platform:gpu-capacity";

    public static bool IsExpense(string account) => account.StartsWith("expense:", StringComparison.Ordinal);
}

public static class PostingKinds
{
    public const string Usage = "usage";
    /// <summary>Usage of a finalized month, posted on the next open one (<see cref="LedgerPosting.Corrects"/>).</summary>
    public const string LateUsage = "late_usage";
    public const string Void = "void";
    /// <summary>A rate-card version changed the price of usage already posted.</summary>
    public const string Repricing = "repricing";
    public const string Finalize = "finalize";
    public const string IdleAllocation = "idle_allocation";
}

/// <summary>One line of a posting: an account, its amount, and what usage it is for.</summary>
public sealed record PostingLine(string Account, decimal Amount, decimal Quantity = 0, string? Meter = null, string? Model = null, string? GpuType = null,
    string? UnitPrice = null, string? AdjustmentFor = null);

/// <summary>
/// A journal entry of the ledger, written by <see cref="LedgerProjection"/> for one event (and tenant-month). Its id is
/// the event's sequence, so a rebuild writes the same postings again. It carries the team's name and cost centre as
/// they were when it was posted.
/// </summary>
public sealed record LedgerPosting(string Id, long Sequence, string Period, string Kind, string? Tenant, string? Team, string? Corrects, DateTimeOffset At,
    IReadOnlyList<PostingLine> Lines, string? TeamName = null, string? CostCenter = null)
{
    public decimal Balance => Lines.Sum(l => l.Amount);
}

/// <summary>What the ledger has posted for a tenant-month, per team and invoice line: statements are read from these.</summary>
public sealed record LedgerLine(string Team, string Meter, string? Model, string? GpuType, string? UnitPrice, string? AdjustmentFor, decimal Quantity, decimal Amount)
{
    public LineKey Key => new(Meter, Model, GpuType, UnitPrice, AdjustmentFor);
}

/// <summary>An invoice line's identity: (meter, model or GPU type, unit price, month corrected).</summary>
public sealed record LineKey(string Meter, string? Model, string? GpuType, string? UnitPrice, string? AdjustmentFor)
{
    public static LineKey Of(InvoiceLineView line) => new(line.Meter, line.Model, line.GpuType, line.UnitPrice, line.AdjustmentFor);
}

/// <summary>The ledger's balances of one tenant-month (id: the usage stream key).</summary>
public sealed class LedgerBalance
{
    public string Id { get; set; } = "";
    public string Tenant { get; set; } = "";
    public string Month { get; set; } = "";
    /// <summary>The invoice is finalized: nothing more is posted to this tenant-month.</summary>
    public bool Finalized { get; set; }
    public List<LedgerLine> Lines { get; set; } = [];

    /// <summary>What is posted per invoice line, over every team.</summary>
    public (decimal Quantity, decimal Amount) Posted(LineKey key)
    {
        decimal quantity = 0, amount = 0;
        foreach (var line in Lines)
            if (line.Key == key) (quantity, amount) = (quantity + line.Quantity, amount + line.Amount);
        return (quantity, amount);
    }

    /// <summary>
    /// Posts the usage of <paramref name="added"/> (quantities per invoice line, negative for voids) to
    /// <paramref name="team"/>: each touched line's amount becomes <see cref="PricingRule.Amount"/> of its whole quantity,
    /// as on the invoice, and the posting carries the difference to what was posted before.
    /// </summary>
    public IReadOnlyList<PostingLine> Add(IEnumerable<(LineKey Key, decimal Quantity)> added, string team) =>
        TrueUp(added.GroupBy(a => a.Key).Select(g =>
        {
            var quantity = Posted(g.Key).Quantity + g.Sum(a => a.Quantity);
            var amount = g.Key.UnitPrice is { } price
                ? PricingRule.Amount(g.Key.Meter, quantity, decimal.Parse(price, System.Globalization.CultureInfo.InvariantCulture))
                : 0m;
            return (g.Key, quantity, amount);
        }).ToList(), team, complete: false);

    /// <summary>
    /// Posts the difference between <paramref name="invoice"/> and what is posted so far to <paramref name="team"/>.
    /// An amount is always the invoice line's amount now minus the amounts posted before, so a tenant-month's postings
    /// add up to its invoice to the cent, however its usage was split across postings, prices and teams.
    /// </summary>
    public IReadOnlyList<PostingLine> TrueUp(IReadOnlyList<InvoiceLineView> invoice, string team) =>
        TrueUp(invoice.Select(l => (LineKey.Of(l), l.Quantity, l.Amount is null ? 0m : decimal.Parse(l.Amount, System.Globalization.CultureInfo.InvariantCulture))).ToList(),
            team, complete: true);

    /// <summary><paramref name="complete"/>: lines missing from the target are brought to zero; else they are left alone.</summary>
    private IReadOnlyList<PostingLine> TrueUp(IReadOnlyList<(LineKey Key, decimal Quantity, decimal Amount)> lines, string team, bool complete)
    {
        var target = lines.ToDictionary(l => l.Key, l => (l.Quantity, l.Amount));
        var keys = complete ? target.Keys.Concat(Lines.Select(l => l.Key)).Distinct() : target.Keys;
        var debits = new List<PostingLine>();
        foreach (var key in keys.OrderBy(k => k.AdjustmentFor ?? "", StringComparer.Ordinal)
                     .ThenBy(k => k.Meter, StringComparer.Ordinal).ThenBy(k => k.Model ?? k.GpuType, StringComparer.Ordinal)
                     .ThenBy(k => k.UnitPrice, StringComparer.Ordinal))
        {
            var now = target.GetValueOrDefault(key);
            var before = Posted(key);
            var (quantity, amount) = (now.Quantity - before.Quantity, now.Amount - before.Amount);
            if (quantity == 0 && amount == 0) continue;
            debits.Add(new PostingLine(LedgerAccounts.Expense(team), amount, quantity, key.Meter, key.Model, key.GpuType, key.UnitPrice, key.AdjustmentFor));
            var index = Lines.FindIndex(l => l.Team == team && l.Key == key);
            if (index < 0) Lines.Add(new LedgerLine(team, key.Meter, key.Model, key.GpuType, key.UnitPrice, key.AdjustmentFor, quantity, amount));
            else Lines[index] = Lines[index] with { Quantity = Lines[index].Quantity + quantity, Amount = Lines[index].Amount + amount };
        }
        if (debits.Count == 0) return [];
        return [.. debits, new PostingLine(LedgerAccounts.CostPool, -debits.Sum(d => d.Amount))];
    }
}

/// <summary>
/// The rate cards and team mappings as of the last event the ledger processed. The ledger keeps its own copy, not the
/// live documents, so a rebuild prices and attributes every posting exactly as it was posted the first time.
/// </summary>
public sealed class LedgerBook
{
    public const string Key = "ledger-book";
    public string Id { get; set; } = Key;
    public RateCardHistory? RateCards { get; set; }
    public TeamDirectory Teams { get; set; } = TeamDirectory.Empty;
}

/// <summary>The idle GPU capacity cost of a month and its allocation to teams (id: the period).</summary>
public sealed class CapacityAllocation
{
    public string Id { get; set; } = "";
    public string Mode { get; set; } = "";
    public DateTimeOffset RecordedAt { get; set; }
    public List<CapacityAllocationView> Items { get; set; } = [];
    /// <summary>What is posted now, per team and GPU type (nothing in showback mode).</summary>
    public List<IdleShare> Posted { get; set; } = [];
}

public sealed record IdleShare(string Team, string GpuType, decimal Amount);

/// <summary>
/// The name and cost centre of each team a period's postings went to, as they were at the latest posting of the
/// period (id: the period). Statements and exports show these, so renaming a team later does not rewrite past months.
/// </summary>
public sealed class PeriodTeams
{
    public string Id { get; set; } = "";
    public Dictionary<string, PostedTeam> Teams { get; set; } = [];
}

public sealed record PostedTeam(string Name, string CostCenter);
