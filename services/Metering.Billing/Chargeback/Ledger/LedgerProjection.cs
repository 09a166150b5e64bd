using JasperFx.Events;
using Marten.Events.Projections;
using Metering.Billing.Chargeback.Capacity;
using Metering.Billing.Invoices;

namespace Metering.Billing.Chargeback.Ledger;

/// <summary>
/// The double-entry chargeback ledger, an asynchronous projection over Billing's whole event log in sequence order.
/// Every change to a tenant-month's invoice (usage, void, finalize, a rate-card version that reprices it) posts the
/// difference between the invoice now and what the ledger posted before: a debit to the team the tenant is mapped to
/// at that point of the log, a credit to the platform's cost pool. Usage and voids are priced line by line as they
/// come (the price in effect on the usage's day, as the invoice does); a new rate-card version re-prices each open
/// month from its events up to that point. A month's GPU capacity cost posts its idle part to the teams that used that
/// GPU type. The projection keeps its own rate cards and team mappings, so replaying the log gives the same postings,
/// one per event, with the same ids.
/// </summary>
public sealed class LedgerProjection : IProjection
{
    public const string Name = "chargeback-ledger";

    public static void Register(StoreOptions opts)
    {
        opts.Schema.For<LedgerPosting>().Identity(p => p.Id).Index(p => p.Period);
        opts.Schema.For<LedgerBalance>().Identity(b => b.Id).Index(b => b.Month);
        opts.Schema.For<LedgerBook>().Identity(b => b.Id);
        opts.Schema.For<CapacityAllocation>().Identity(a => a.Id);
        opts.Schema.For<PeriodTeams>().Identity(t => t.Id);
        opts.Projections.Add(new LedgerProjection(), JasperFx.Events.Projections.ProjectionLifecycle.Async, Name, options =>
        {
            options.DeleteViewTypeOnTeardown<LedgerPosting>();
            options.DeleteViewTypeOnTeardown<LedgerBalance>();
            options.DeleteViewTypeOnTeardown<LedgerBook>();
            options.DeleteViewTypeOnTeardown<CapacityAllocation>();
            options.DeleteViewTypeOnTeardown<PeriodTeams>();
        });
    }

    public async Task ApplyAsync(IDocumentOperations operations, IReadOnlyList<IEvent> events, CancellationToken cancellation)
    {
        var batch = new LedgerBatch(operations);
        await batch.LoadAsync(events, cancellation);
        foreach (var e in events) await batch.ApplyAsync(e, cancellation);
        await batch.NoteTeamsAsync(cancellation);
        batch.Save();
    }

    /// <summary>One daemon batch: the documents it touches, loaded once and stored once.</summary>
    private sealed class LedgerBatch(IDocumentOperations operations)
    {
        private readonly Dictionary<string, LedgerBalance> _months = new(StringComparer.Ordinal);
        private readonly Dictionary<string, CapacityAllocation> _capacity = new(StringComparer.Ordinal);
        private readonly List<LedgerPosting> _postings = [];
        /// <summary>The teams posted to, per period, with their name and cost centre at that posting, in posting order.</summary>
        private readonly List<(string Period, string Team, TeamRecord Record, bool Usage)> _teamsPosted = [];
        private readonly List<PeriodTeams> _periodTeams = [];
        private LedgerBook _book = new();
        private bool _bookChanged;
        private readonly Dictionary<DateOnly, RateCardVersionAdded?> _versionOn = [];

        public async Task LoadAsync(IReadOnlyList<IEvent> events, CancellationToken ct)
        {
            _book = await operations.LoadAsync<LedgerBook>(LedgerBook.Key, ct) ?? new LedgerBook();
            var keys = events.Select(e => e.Data switch
                {
                    UsageBatchRecorded u => BillingPeriod.UsageStream(u.Tenant, u.Month),
                    UsageVoidRecorded v => BillingPeriod.UsageStream(v.Tenant, v.Month),
                    InvoiceFinalized f => BillingPeriod.UsageStream(f.Tenant, f.Month),
                    UnpricedUsageCarried c => BillingPeriod.UsageStream(c.Tenant, c.Month),
                    _ => null,
                })
                .OfType<string>().Distinct(StringComparer.Ordinal).ToArray();
            if (keys.Length == 0) return;
            foreach (var balance in await operations.LoadManyAsync<LedgerBalance>(ct, keys)) _months[balance.Id] = balance;
        }

        public async Task ApplyAsync(IEvent e, CancellationToken ct)
        {
            switch (e.Data)
            {
                case UsageBatchRecorded recorded:
                    Post(e, Month(recorded.Tenant, recorded.Month), recorded.AdjustmentFor is null ? PostingKinds.Usage : PostingKinds.LateUsage,
                        recorded.AdjustmentFor, recorded.Sums().Select(u => (Key(u.Meter, u.Model, u.GpuType, u.Day, recorded.AdjustmentFor, recorded.FrozenRateCards), u.Quantity)));
                    break;
                case UsageVoidRecorded voided:
                {
                    var month = Month(voided.Tenant, voided.Month);
                    var team = await ChargedTeamAsync(e, voided, ct) ?? _book.Teams.TeamOf(month.Tenant);
                    Record(e, month, PostingKinds.Void, voided.AdjustmentFor, team,
                        month.Add([(Key(voided.Usage.Meter, voided.Usage.Model, voided.Usage.GpuType, DateOnly.FromDateTime(voided.Usage.Timestamp.UtcDateTime),
                            voided.AdjustmentFor, voided.FrozenRateCards), -voided.Usage.Quantity)], team));
                    break;
                }
                case UnpricedUsageCarried carried:
                    foreach (var group in carried.Days.GroupBy(d => d.AdjustmentFor))
                        Post(e, Month(carried.Tenant, carried.Month), PostingKinds.LateUsage, group.Key, group.Select(d => (new LineKey(d.Meter, d.Model, d.GpuType,
                            _book.RateCards?.PriceOf(d.Meter, d.Model, d.GpuType, d.Day, d.FrozenRateCards)?.ToString(System.Globalization.CultureInfo.InvariantCulture),
                            d.AdjustmentFor), d.Quantity)));
                    break;
                case InvoiceFinalized finalized:
                {
                    var month = Month(finalized.Tenant, finalized.Month);
                    TrueUp(e, month, finalized.Lines, PostingKinds.Finalize);
                    month.Finalized = true;
                    break;
                }
                case RateCardVersionAdded added:
                    _book.RateCards = RateCardHistory.With(_book.RateCards, added);
                    _bookChanged = true;
                    _versionOn.Clear();
                    await RepriceOpenMonthsAsync(e, BillingPeriod.Of(new DateTimeOffset(added.EffectiveFrom, TimeOnly.MinValue, TimeSpan.Zero)), ct);
                    break;
                case TeamDefined defined:
                    _book.Teams = _book.Teams.Apply(defined);
                    _bookChanged = true;
                    break;
                case TenantTeamAssigned assigned:
                    _book.Teams = _book.Teams.Apply(assigned);
                    _bookChanged = true;
                    break;
                case CapacityCostRecorded capacity:
                    await AllocateIdleAsync(e, capacity, ct);
                    break;
            }
        }

        public void Save()
        {
            if (_bookChanged) operations.Store(_book);
            if (_months.Count > 0) operations.Store(_months.Values.ToArray());
            if (_capacity.Count > 0) operations.Store(_capacity.Values.ToArray());
            // Postings are new documents (their ids are event sequences): inserts, not upserts.
            if (_postings.Count > 0) operations.Insert(_postings.ToArray());
            if (_periodTeams.Count > 0) operations.Store(_periodTeams.ToArray());
        }

        public async Task NoteTeamsAsync(CancellationToken ct)
        {
            if (_teamsPosted.Count == 0) return;
            var periods = _teamsPosted.Select(t => t.Period).Distinct(StringComparer.Ordinal).ToArray();
            var stored = (await operations.LoadManyAsync<PeriodTeams>(ct, periods)).ToDictionary(p => p.Id, StringComparer.Ordinal);
            foreach (var (period, team, record, usage) in _teamsPosted)
            {
                if (!stored.TryGetValue(period, out var teams)) stored[period] = teams = new PeriodTeams { Id = period };
                // A capacity cost recorded after the month names a team only if its usage did not.
                if (usage || !teams.Teams.ContainsKey(team)) teams.Teams[team] = new PostedTeam(record.Name, record.CostCenter);
            }
            _periodTeams.AddRange(stored.Values);
        }

        private TeamRecord? NoteTeam(string period, string team, bool usage = true)
        {
            var record = _book.Teams.Teams.GetValueOrDefault(team);
            if (record is not null) _teamsPosted.Add((period, team, record, usage));
            return record;
        }

        private LedgerBalance Month(string tenant, string month)
        {
            var key = BillingPeriod.UsageStream(tenant, month);
            if (!_months.TryGetValue(key, out var balance))
                _months[key] = balance = new LedgerBalance { Id = key, Tenant = tenant, Month = month };
            return balance;
        }

        /// <summary>The invoice line a usage counts on: its meter and model or GPU type, the price in effect on its day.</summary>
        private LineKey Key(string meter, string? usageModel, string? usageGpuType, DateOnly day, string? adjustmentFor, int? frozenRateCards)
        {
            var (model, gpuType) = Meters.ItemOf(meter, usageModel, usageGpuType);
            if (!_versionOn.TryGetValue(day, out var version)) _versionOn[day] = version = _book.RateCards?.InEffectOn(day);
            // A correction of a finalized month is priced as its invoice was (RateCardHistory.PriceOf).
            var price = frozenRateCards is null ? version?.PriceOf(meter, model, gpuType)
                : _book.RateCards?.PriceOf(meter, model, gpuType, day, frozenRateCards);
            return new LineKey(meter, model, gpuType, price?.ToString(System.Globalization.CultureInfo.InvariantCulture), adjustmentFor);
        }

        private void Post(IEvent e, LedgerBalance month, string kind, string? corrects, IEnumerable<(LineKey, decimal)> usage)
        {
            var team = _book.Teams.TeamOf(month.Tenant);
            Record(e, month, kind, corrects, team, month.Add(usage, team));
        }

        /// <summary>
        /// The team the voided usage was charged to: the team of the posting of the event that recorded it (the tenant
        /// may have moved since); null when the recording posted nothing.
        /// </summary>
        private async Task<string?> ChargedTeamAsync(IEvent e, UsageVoidRecorded voided, CancellationToken ct)
        {
            if (await UsageRecordings.RecordingSequenceAsync(operations, e.Sequence, voided, ct) is not { } sequence) return null;
            var id = sequence.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return (_postings.FirstOrDefault(p => p.Id == id) ?? await operations.LoadAsync<LedgerPosting>(id, ct))?.Team;
        }

        private void TrueUp(IEvent e, LedgerBalance month, IReadOnlyList<InvoiceLineView> invoice, string kind)
        {
            var team = _book.Teams.TeamOf(month.Tenant);
            Record(e, month, kind, null, team, month.TrueUp(invoice, team));
        }

        private void Record(IEvent e, LedgerBalance month, string kind, string? corrects, string team, IReadOnlyList<PostingLine> lines)
        {
            if (lines.Count == 0) return;
            var id = kind == PostingKinds.Repricing ? $"{e.Sequence}:{month.Id}" : e.Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var record = NoteTeam(month.Month, team);
            _postings.Add(new LedgerPosting(id, e.Sequence, month.Month, kind, month.Tenant, team, corrects, e.Timestamp, lines, record?.Name, record?.CostCenter));
        }

        /// <summary>
        /// A new rate-card version may change the price of usage already posted: every month not finalized from
        /// <paramref name="firstMonth"/> on is priced again from its events up to this one, like its invoice.
        /// </summary>
        private async Task RepriceOpenMonthsAsync(IEvent e, string firstMonth, CancellationToken ct)
        {
            var months = new List<string>();
            for (var m = firstMonth; string.CompareOrdinal(m, BillingPeriod.Next(BillingPeriod.Of(e.Timestamp))) <= 0; m = BillingPeriod.Next(m)) months.Add(m);
            var stored = await operations.Query<LedgerBalance>().Where(b => !b.Finalized && months.Contains(b.Month)).ToListAsync(ct);
            foreach (var balance in stored) _months.TryAdd(balance.Id, balance);
            foreach (var month in _months.Values.Where(b => !b.Finalized && months.Contains(b.Month)).OrderBy(b => b.Id, StringComparer.Ordinal).ToList())
            {
                var usage = await UsageUpToAsync(month, e.Sequence, ct);
                TrueUp(e, month, InvoicePricing.Price(usage, _book.RateCards).Lines, PostingKinds.Repricing);
            }
        }

        private async Task<MonthlyUsage> UsageUpToAsync(LedgerBalance month, long sequence, CancellationToken ct)
        {
            var events = await operations.Events.QueryAllRawEvents()
                .Where(x => x.StreamKey == month.Id && x.Sequence <= sequence)
                .OrderBy(x => x.Sequence)
                .ToListAsync(ct);
            var usage = new MonthlyUsage(month.Id, month.Tenant, month.Month, []);
            foreach (var x in events)
                usage = x.Data switch
                {
                    UsageBatchRecorded recorded => usage.Apply(recorded),
                    UsageVoidRecorded voided => usage.Apply(voided),
                    UnpricedUsageCarried carried => usage.Apply(carried),
                    _ => usage,
                };
            return usage;
        }

        private async Task AllocateIdleAsync(IEvent e, CapacityCostRecorded capacity, CancellationToken ct)
        {
            // Metered GPU use of the month per team, as posted (late usage on later months included): stored balances
            // overlaid with this batch's.
            var months = IdleAllocation.MonthsHolding(capacity.Period);
            var balances = (await operations.Query<LedgerBalance>().Where(b => months.Contains(b.Month)).ToListAsync(ct))
                .Where(b => !_months.ContainsKey(b.Id))
                .Concat(_months.Values.Where(b => months.Contains(b.Month)));
            var metered = IdleAllocation.MeteredSeconds(capacity.Period, balances);

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
            foreach (var team in debits.Select(d => d.Account[(LedgerAccounts.Expense("").Length)..]).Distinct(StringComparer.Ordinal)) NoteTeam(capacity.Period, team, usage: false);
            _postings.Add(new LedgerPosting(e.Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Sequence, capacity.Period,
                PostingKinds.IdleAllocation, null, null, null, e.Timestamp, [.. debits, new PostingLine(LedgerAccounts.GpuCapacity, -debits.Sum(d => d.Amount))]));
        }
    }
}
