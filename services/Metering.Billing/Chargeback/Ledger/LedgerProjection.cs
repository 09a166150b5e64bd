using JasperFx.Events;
using Marten;
using Marten.Events.Projections;
using Metering.Billing.Chargeback.Capacity;
using Metering.Billing.Chargeback.Teams;
using Metering.Billing.Corrections;
using Metering.Billing.Invoicing;
using Metering.Billing.Pricing;
using Metering.Billing.Recording;
using Metering.Contracts.Billing;
using Metering.Contracts.Usage;

namespace Metering.Billing.Chargeback.Ledger;

/// <summary>
/// The double-entry chargeback ledger, an asynchronous projection over Billing's whole event log in sequence order.
/// Every change to a tenant-month's invoice (usage, void, finalize, a rate-card version that reprices it) posts the
/// difference between the invoice now and what the ledger posted before: a debit to the team the tenant is mapped to
/// at that point of the log, a credit to the platform's cost pool. A month's GPU capacity cost posts its idle part to
/// the teams that used that GPU type. The projection keeps its own rate cards and team mappings, so replaying the log
/// gives the same postings, one per event, with the same ids.
/// </summary>
public sealed class LedgerProjection : IProjection
{
    public const string Name = "chargeback-ledger";

    public static void Register(StoreOptions opts)
    {
        opts.Schema.For<LedgerPosting>().Identity(p => p.Id).Index(p => p.Period);
        opts.Schema.For<LedgerBalance>().Identity(b => b.Id).Index(b => b.Month);
        opts.Schema.For<LedgerUsage>().Identity(u => u.Id).Index(u => u.Month);
        opts.Schema.For<LedgerBook>().Identity(b => b.Id);
        opts.Schema.For<CapacityAllocation>().Identity(a => a.Id);
        opts.Projections.Add(new LedgerProjection(), JasperFx.Events.Projections.ProjectionLifecycle.Async, Name, options =>
        {
            options.DeleteViewTypeOnTeardown<LedgerPosting>();
            options.DeleteViewTypeOnTeardown<LedgerBalance>();
            options.DeleteViewTypeOnTeardown<LedgerUsage>();
            options.DeleteViewTypeOnTeardown<LedgerBook>();
            options.DeleteViewTypeOnTeardown<CapacityAllocation>();
        });
    }

    public async Task ApplyAsync(IDocumentOperations operations, IReadOnlyList<IEvent> events, CancellationToken cancellation)
    {
        var batch = new LedgerBatch(operations);
        await batch.LoadAsync(events, cancellation);
        foreach (var e in events) await batch.ApplyAsync(e, cancellation);
        batch.Save();
    }

    /// <summary>One daemon batch: the documents it touches, loaded once and stored once.</summary>
    private sealed class LedgerBatch(IDocumentOperations operations)
    {
        private readonly Dictionary<string, (LedgerUsage Usage, LedgerBalance Balance)> _months = new(StringComparer.Ordinal);
        private readonly Dictionary<string, CapacityAllocation> _capacity = new(StringComparer.Ordinal);
        private readonly List<LedgerPosting> _postings = [];
        private LedgerBook _book = new();

        public async Task LoadAsync(IReadOnlyList<IEvent> events, CancellationToken ct)
        {
            _book = await operations.LoadAsync<LedgerBook>(LedgerBook.Key, ct) ?? new LedgerBook();
            var keys = events.Select(e => e.Data switch
                {
                    UsageBatchRecorded u => BillingPeriod.UsageStream(u.Tenant, u.Month),
                    UsageVoidRecorded v => BillingPeriod.UsageStream(v.Tenant, v.Month),
                    InvoiceFinalized f => BillingPeriod.UsageStream(f.Tenant, f.Month),
                    _ => null,
                })
                .OfType<string>().Distinct(StringComparer.Ordinal).ToArray();
            if (keys.Length == 0) return;
            var usage = (await operations.LoadManyAsync<LedgerUsage>(ct, keys)).ToDictionary(u => u.Id, StringComparer.Ordinal);
            var balances = (await operations.LoadManyAsync<LedgerBalance>(ct, keys)).ToDictionary(b => b.Id, StringComparer.Ordinal);
            foreach (var key in usage.Keys) _months[key] = (usage[key], balances.GetValueOrDefault(key) ?? new LedgerBalance { Id = key });
        }

        public async Task ApplyAsync(IEvent e, CancellationToken ct)
        {
            switch (e.Data)
            {
                case UsageBatchRecorded recorded:
                {
                    var month = Month(recorded.Tenant, recorded.Month);
                    month.Usage.Usage = month.Usage.Usage.Apply(recorded);
                    Post(e, month, recorded.AdjustmentFor is null ? PostingKinds.Usage : PostingKinds.LateUsage, recorded.AdjustmentFor);
                    break;
                }
                case UsageVoidRecorded voided:
                {
                    var month = Month(voided.Tenant, voided.Month);
                    month.Usage.Usage = month.Usage.Usage.Apply(voided);
                    Post(e, month, PostingKinds.Void, voided.AdjustmentFor);
                    break;
                }
                case InvoiceFinalized finalized:
                {
                    var month = Month(finalized.Tenant, finalized.Month);
                    month.Usage.Usage = month.Usage.Usage.Apply(finalized);
                    month.Usage.Finalized = true;
                    Post(e, month, PostingKinds.Finalize, null);
                    break;
                }
                case RateCardVersionAdded added:
                    _book.RateCards = RateCardHistory.With(_book.RateCards, added);
                    foreach (var month in await OpenMonthsFromAsync(BillingPeriod.Of(new DateTimeOffset(added.EffectiveFrom, TimeOnly.MinValue, TimeSpan.Zero)), e.Timestamp, ct))
                        Post(e, month, PostingKinds.Repricing, null);
                    break;
                case TeamDefined defined:
                    _book.Teams = _book.Teams.Apply(defined);
                    break;
                case TenantTeamAssigned assigned:
                    _book.Teams = _book.Teams.Apply(assigned);
                    break;
                case CapacityCostRecorded capacity:
                    await AllocateIdleAsync(e, capacity, ct);
                    break;
            }
        }

        public void Save()
        {
            operations.Store(_book);
            if (_months.Count > 0)
            {
                operations.Store(_months.Values.Select(m => m.Usage).ToArray());
                operations.Store(_months.Values.Select(m => m.Balance).ToArray());
            }
            if (_capacity.Count > 0) operations.Store(_capacity.Values.ToArray());
            if (_postings.Count > 0) operations.Store(_postings.ToArray());
        }

        private (LedgerUsage Usage, LedgerBalance Balance) Month(string tenant, string month)
        {
            var key = BillingPeriod.UsageStream(tenant, month);
            if (!_months.TryGetValue(key, out var state))
                _months[key] = state = (new LedgerUsage { Id = key, Month = month, Usage = new MonthlyUsage(key, tenant, month, []) },
                    new LedgerBalance { Id = key, Tenant = tenant, Month = month });
            return state;
        }

        /// <summary>Trues the tenant-month's postings up to its invoice as of this event.</summary>
        private void Post(IEvent e, (LedgerUsage Usage, LedgerBalance Balance) month, string kind, string? corrects)
        {
            var usage = month.Usage.Usage;
            var invoice = usage.Finalized?.Lines ?? InvoicePricing.Price(usage, _book.RateCards).Lines;
            var team = _book.Teams.TeamOf(usage.Tenant);
            var lines = month.Balance.TrueUp(invoice, team);
            if (lines.Count == 0) return;
            var id = kind == PostingKinds.Repricing ? $"{e.Sequence}:{month.Usage.Id}" : e.Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture);
            _postings.Add(new LedgerPosting(id, e.Sequence, usage.Month, kind, usage.Tenant, team, corrects, e.Timestamp, lines));
        }

        /// <summary>Every month not finalized from <paramref name="firstMonth"/> on: a new rate-card version may reprice them.</summary>
        private async Task<IReadOnlyList<(LedgerUsage Usage, LedgerBalance Balance)>> OpenMonthsFromAsync(string firstMonth, DateTimeOffset at, CancellationToken ct)
        {
            var months = new List<string>();
            for (var m = firstMonth; string.CompareOrdinal(m, BillingPeriod.Next(BillingPeriod.Of(at))) <= 0; m = BillingPeriod.Next(m)) months.Add(m);
            var stored = await operations.Query<LedgerUsage>().Where(u => !u.Finalized && months.Contains(u.Month)).Select(u => u.Id).ToListAsync(ct);
            var missing = stored.Where(k => !_months.ContainsKey(k)).ToArray();
            if (missing.Length > 0)
            {
                var usage = await operations.LoadManyAsync<LedgerUsage>(ct, missing);
                var balances = (await operations.LoadManyAsync<LedgerBalance>(ct, missing)).ToDictionary(b => b.Id, StringComparer.Ordinal);
                foreach (var u in usage) _months[u.Id] = (u, balances.GetValueOrDefault(u.Id) ?? new LedgerBalance { Id = u.Id, Tenant = u.Usage.Tenant, Month = u.Month });
            }
            return _months.Values.Where(m => !m.Usage.Finalized && months.Contains(m.Usage.Month)).OrderBy(m => m.Usage.Id, StringComparer.Ordinal).ToList();
        }

        private async Task AllocateIdleAsync(IEvent e, CapacityCostRecorded capacity, CancellationToken ct)
        {
            // Metered GPU use of the month per team, as posted: stored balances overlaid with this batch's.
            var balances = (await operations.Query<LedgerBalance>().Where(b => b.Month == capacity.Period).ToListAsync(ct))
                .Where(b => !_months.ContainsKey(b.Id))
                .Concat(_months.Values.Where(m => m.Balance.Month == capacity.Period).Select(m => m.Balance));
            var metered = balances.SelectMany(b => b.Lines)
                .Where(l => l.Meter == Meters.GpuSeconds && l.AdjustmentFor is null && l.GpuType is not null)
                .GroupBy(l => l.GpuType!)
                .ToDictionary(g => g.Key, g => (IReadOnlyDictionary<string, decimal>)g.GroupBy(l => l.Team).ToDictionary(t => t.Key, t => t.Sum(l => l.Quantity)));

            if (!_capacity.TryGetValue(capacity.Period, out var allocation))
                _capacity[capacity.Period] = allocation = await operations.LoadAsync<CapacityAllocation>(capacity.Period, ct) ?? new CapacityAllocation { Id = capacity.Period };
            allocation.Mode = capacity.Mode;
            allocation.RecordedAt = capacity.At;
            allocation.Items = capacity.Items.Select(i => IdleAllocation.Allocate(i, metered.GetValueOrDefault(i.GpuType) ?? new Dictionary<string, decimal>())).ToList();
            var target = capacity.Mode == CapacityModes.Chargeback
                ? allocation.Items.SelectMany(i => i.Shares.Select(s => new IdleShare(s.Team, i.GpuType, decimal.Parse(s.Amount, System.Globalization.CultureInfo.InvariantCulture)))).ToList()
                : [];

            // Post what changed against what was posted before: a new record (or mode) replaces the earlier allocation.
            var debits = target.Select(t => (t.Team, t.GpuType, t.Amount))
                .Concat(allocation.Posted.Select(p => (p.Team, p.GpuType, Amount: -p.Amount)))
                .GroupBy(x => (x.Team, x.GpuType))
                .Select(g => (g.Key.Team, g.Key.GpuType, Amount: g.Sum(x => x.Amount)))
                .Where(x => x.Amount != 0)
                .OrderBy(x => x.Team, StringComparer.Ordinal).ThenBy(x => x.GpuType, StringComparer.Ordinal)
                .Select(x => new PostingLine(LedgerAccounts.Expense(x.Team), x.Amount, GpuType: x.GpuType))
                .ToList();
            allocation.Posted = target;
            if (debits.Count == 0) return;
            _postings.Add(new LedgerPosting(e.Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Sequence, capacity.Period,
                PostingKinds.IdleAllocation, null, null, null, e.Timestamp, [.. debits, new PostingLine(LedgerAccounts.GpuCapacity, -debits.Sum(d => d.Amount))]));
        }
    }
}
