using Metering.Billing.Chargeback.Ledger;
using Metering.Billing.Chargeback.Statements;
using Metering.Billing.Invoices;
using Metering.Billing.Usage;
using Metering.Contracts;
using Metering.UsageTopic;
using Npgsql;

namespace Metering.Billing.Chargeback.Reconciliation;

/// <summary>
/// <c>GET /v1/reconciliation/{period}</c> (admin): the month's money counted four ways that share no stored totals —
/// the recorded usage events summed in PostgreSQL and priced with the rate card, the invoices, the ledger's postings,
/// and the team statements — per tenant where it applies, and the idle capacity allocation against the capacity cost.
/// Every difference is listed; <c>balanced</c> is true only when there is none. It also reports the usage on the
/// month's invoices that no rate-card version prices.
/// </summary>
public static class GetReconciliation
{
    public static readonly TimeSpan LedgerWait = TimeSpan.FromSeconds(15);

    public static void MapGetReconciliation(this IEndpointRouteBuilder app) =>
        app.MapGet("/v1/reconciliation/{period}", HandleAsync).RequireAuthorization(Policies.Admin)
            .WithName("GetReconciliation").WithTags("Chargeback").WithSummary("The month's money counted four independent ways, with every difference")
            .Produces<ReconciliationView>().ProducesValidationProblem().ProducesRetryLater();

    private static async Task<IResult> HandleAsync(string period, IDocumentStore store, BillingDatabase database, CancellationToken ct)
    {
        if (!BillingPeriod.TryParse(period, out _))
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["period"] = [BillingPeriod.Rule] });
        return Results.Ok(await ReconcileAsync(period, store, database, InvoicePricing.Price, ct));
    }

    /// <summary>How the invoice path prices a draft invoice (<see cref="InvoicePricing.Price"/>; a test passes a wrong one).</summary>
    public delegate (IReadOnlyList<InvoiceLineView> Lines, decimal Total) InvoicePricer(MonthlyUsage usage, RateCardHistory? rateCards);

    public static async Task<ReconciliationView> ReconcileAsync(string period, IDocumentStore store, BillingDatabase database, InvoicePricer priceInvoice,
        CancellationToken ct)
    {
        var current = await LedgerProgress.WaitUntilCurrentAsync(store, LedgerWait, ct);
        await using var session = store.QuerySession();
        var rateCards = await session.LoadAsync<RateCardHistory>(RateCardHistory.StreamKey, ct);
        var invoices = await session.Query<MonthlyUsage>().Where(u => u.Month == period).ToListAsync(ct);
        var recorded = await UsageAtRates.ReadAsync(database, store.Options.DatabaseSchemaName, period, ct);
        var ledger = await PostedAmounts.ReadAsync(database, store.Options.DatabaseSchemaName, period, ct);
        var statement = await GetChargeback.LoadAsync(store, period, scope: null, ct);

        var differences = new List<ReconciliationDifference>();
        var tenants = invoices.Select(i => i.Tenant).Concat(recorded.ByTenant.Keys).Concat(ledger.ByTenant.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        decimal usagePriced = 0, invoiced = 0;
        var unpriced = new List<UnpricedUsageView>();
        foreach (var tenant in tenants)
        {
            var invoice = invoices.FirstOrDefault(i => i.Tenant == tenant);
            var fromEvents = recorded.ByTenant.GetValueOrDefault(tenant);
            var (lines, fromInvoice) = invoice is null ? ([], 0m)
                : invoice.Finalized is { } f ? (f.Lines, decimal.Parse(f.Total, CultureInfo.InvariantCulture))
                : priceInvoice(invoice, rateCards);
            unpriced.AddRange(lines.Where(l => l.UnitPrice is null).Select(l => new UnpricedUsageView(tenant, l.Meter, l.Model, l.GpuType, l.AdjustmentFor, l.Quantity)));
            var fromLedger = ledger.ByTenant.GetValueOrDefault(tenant);
            usagePriced += fromEvents;
            invoiced += fromInvoice;
            if (fromEvents != fromInvoice) differences.Add(new("usage_priced vs invoice", tenant, Money.Format(fromEvents), Money.Format(fromInvoice)));
            if (fromInvoice != fromLedger) differences.Add(new("invoice vs ledger_debits", tenant, Money.Format(fromInvoice), Money.Format(fromLedger)));
        }

        var teams = statement.ToView(current).Teams;
        var statements = teams.Sum(t => Parse(t.Own.DirectCost) + Parse(t.Own.Corrections));
        var usageDebits = ledger.ByTenant.Values.Sum();
        if (statements != usageDebits) differences.Add(new("ledger_debits vs statements", null, Money.Format(usageDebits), Money.Format(statements)));
        if (ledger.Balance != 0) differences.Add(new("postings balance to zero", null, Money.Format(0), Money.Format(ledger.Balance)));

        ReconciliationCapacity? capacity = null;
        if (statement.Capacity is { } allocation)
        {
            var idleCost = allocation.Items.Sum(i => Parse(i.IdleCost));
            var allocated = allocation.Items.Sum(i => i.Shares.Sum(s => Parse(s.Amount)));
            var expectedPosted = allocation.Mode == CapacityModes.Chargeback ? allocated : 0m;
            capacity = new(allocation.Mode, Money.Format(allocation.Items.Sum(i => Parse(i.Cost))), Money.Format(idleCost), Money.Format(allocated), Money.Format(ledger.IdleDebits));
            if (allocated != idleCost) differences.Add(new("idle_cost vs allocated", null, Money.Format(idleCost), Money.Format(allocated)));
            // The allocation used the metered GPU hours posted when the capacity cost was recorded; later usage changes them.
            // They are counted here from the recorded events, not from the ledger the allocation read.
            var meteredNow = await MeteredGpuSeconds.ReadAsync(database, store.Options.DatabaseSchemaName, period, ct);
            foreach (var item in allocation.Items)
            {
                var hoursNow = Math.Round(meteredNow.GetValueOrDefault(item.GpuType) / IdleAllocation.SecondsPerHour, 6, MidpointRounding.ToEven);
                if (item.MeteredHours != hoursNow)
                    differences.Add(new($"metered {item.GpuType} hours of the idle allocation vs now (record the capacity cost again)", null,
                        item.MeteredHours.ToString(CultureInfo.InvariantCulture), hoursNow.ToString(CultureInfo.InvariantCulture)));
                if (hoursNow > item.GpuHours)
                    differences.Add(new($"provisioned {item.GpuType} hours vs metered (more used than provisioned)", null,
                        item.GpuHours.ToString(CultureInfo.InvariantCulture), hoursNow.ToString(CultureInfo.InvariantCulture)));
            }
            if (ledger.IdleDebits != expectedPosted) differences.Add(new("allocated vs idle postings", null, Money.Format(expectedPosted), Money.Format(ledger.IdleDebits)));
        }

        var counts = await IntakeCounts.ReadAsync(database, store.Options.DatabaseSchemaName, period, ct);
        return new ReconciliationView(period, Money.Currency, Money.Format(usagePriced), Money.Format(invoiced), Money.Format(ledger.Debits), Money.Format(ledger.Credits),
            Money.Format(statements), capacity, counts, unpriced, differences, differences.Count == 0 && current, current);
    }

    /// <summary>
    /// The usage an event of a usage stream holds, for <c>cross join lateral</c> over <c>mt_events e</c>: a batch's totals
    /// (per day: <c>Day</c>, <c>Count</c>), or, in a batch stored before it held totals, each of its usage (<c>Timestamp</c>,
    /// one each), or the one usage a void takes back. Either has <c>Meter</c>, <c>Model</c>, <c>GpuType</c> and
    /// <c>Quantity</c>; <see cref="DayOf"/> and <see cref="CountOf"/> read the rest alike.
    /// </summary>
    private const string RecordedUsageOf =
        "jsonb_array_elements(case when e.type = 'usage_void_recorded' then jsonb_build_array(e.data->'Usage') " +
        "when jsonb_typeof(e.data->'Totals') = 'array' then e.data->'Totals' else e.data->'Usage' end)";

    /// <summary>The UTC day of a row of <see cref="RecordedUsageOf"/> <c>u</c>.</summary>
    private const string DayOf = "coalesce((u->>'Day')::date, ((u->>'Timestamp')::timestamptz at time zone 'UTC')::date)";

    /// <summary>How many usage events a row of <see cref="RecordedUsageOf"/> <c>u</c> stands for.</summary>
    private const string CountOf = "coalesce((u->>'Count')::bigint, 1)";

    private static decimal Parse(string amount) => decimal.Parse(amount, CultureInfo.InvariantCulture);

    /// <summary>
    /// "Usage × rates", computed apart from the invoice code so that a bug there shows as a difference: PRODUCT §4's rule
    /// over the recorded events and the rate-card events, in SQL. Each usage (voids negative) of a tenant's stream of
    /// the month is priced with the version in effect on its UTC day — of the versions added before the invoice of the
    /// month it belongs to (its <c>adjustment_for</c>, else this one) was finalized, when it was — at that version's
    /// price for its meter and model (tokens) or GPU type (<c>gpu_seconds</c>); what those versions leave unpriced, and
    /// the unpriced usage a finalize carried here, takes the price in effect on its day now. A line is (meter, item,
    /// price, month corrected); amount = round_half_even(quantity × price ÷ unit size, 2); a tenant's total is the sum of its lines.
    /// </summary>
    private sealed record UsageAtRates(IReadOnlyDictionary<string, decimal> ByTenant)
    {
        public static async Task<UsageAtRates> ReadAsync(BillingDatabase database, string schema, string period, CancellationToken ct)
        {
            await using var command = database.DataSource.CreateCommand($"""
                with usage as (
                    select split_part(e.stream_id, ':', 2) as tenant, u->>'Meter' as meter,
                           case when u->>'Meter' = 'gpu_seconds' then u->>'GpuType' else u->>'Model' end as item,
                           {DayOf} as day,
                           e.data->>'AdjustmentFor' as adjustment_for,
                           case when e.type = 'usage_void_recorded' then -1 else 1 end * (u->>'Quantity')::numeric as quantity
                    from {schema}.mt_events e
                    cross join lateral {RecordedUsageOf} u
                    where e.stream_id like 'usage:%:' || @period and e.type in ('usage_batch_recorded', 'usage_void_recorded')
                    union all
                    select split_part(e.stream_id, ':', 2), d->>'Meter',
                           case when d->>'Meter' = 'gpu_seconds' then d->>'GpuType' else d->>'Model' end,
                           (d->>'Day')::date, d->>'AdjustmentFor', (d->>'Quantity')::numeric
                    from {schema}.mt_events e
                    cross join lateral jsonb_array_elements(e.data->'Days') d
                    where e.stream_id like 'usage:%:' || @period and e.type = 'unpriced_usage_carried'),
                frozen as (
                    select stream_id, min((data->>'At')::timestamptz) as at
                    from {schema}.mt_events where type = 'invoice_finalized' and stream_id like 'usage:%' group by stream_id),
                versions as (
                    select (data->>'Version')::int as version, (data->>'EffectiveFrom')::date as effective_from,
                           (data->>'AddedAt')::timestamptz as added_at, data->'Prices' as prices
                    from {schema}.mt_events where type = 'rate_card_version_added')
                select u.tenant, u.meter, u.item, u.adjustment_for, priced.price, sum(u.quantity)
                from usage u
                left join frozen f on f.stream_id = 'usage:' || u.tenant || ':' || coalesce(u.adjustment_for, @period)
                left join lateral (
                    select v.prices from versions v
                    where v.effective_from <= u.day and (f.at is null or v.added_at <= f.at)
                    order by v.effective_from desc, v.version desc limit 1) frozen_version on true
                left join lateral (
                    select v.prices from versions v
                    where v.effective_from <= u.day
                    order by v.effective_from desc, v.version desc limit 1) current_version on true
                left join lateral (
                    select coalesce(
                        (select (p->>'Price')::numeric from jsonb_array_elements(frozen_version.prices) p
                         where p->>'Meter' = u.meter
                           and (case when u.meter = 'gpu_seconds' then p->>'GpuType' else p->>'Model' end) is not distinct from u.item limit 1),
                        (select (p->>'Price')::numeric from jsonb_array_elements(current_version.prices) p
                         where p->>'Meter' = u.meter
                           and (case when u.meter = 'gpu_seconds' then p->>'GpuType' else p->>'Model' end) is not distinct from u.item limit 1))
                        as price) priced on true
                group by 1, 2, 3, 4, 5
                """);
            command.Parameters.AddWithValue("period", period);
            var byTenant = new Dictionary<string, decimal>(StringComparer.Ordinal);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var tenant = reader.GetString(0);
                var unitSize = reader.GetString(1) == "gpu_seconds" ? 3_600m : 1_000_000m;
                var amount = reader.IsDBNull(4) ? 0m : Math.Round(reader.GetDecimal(5) * reader.GetDecimal(4) / unitSize, 2, MidpointRounding.ToEven);
                byTenant[tenant] = byTenant.GetValueOrDefault(tenant) + amount;
            }
            return new UsageAtRates(byTenant);
        }
    }

    /// <summary>
    /// The month's metered GPU seconds per GPU type, summed from the recorded events (voids negative): the month's own
    /// stream and the corrections of it posted on later months.
    /// </summary>
    private static class MeteredGpuSeconds
    {
        public static async Task<Dictionary<string, decimal>> ReadAsync(BillingDatabase database, string schema, string period, CancellationToken ct)
        {
            await using var command = database.DataSource.CreateCommand($"""
                select u->>'GpuType', sum(case when e.type = 'usage_void_recorded' then -1 else 1 end * (u->>'Quantity')::numeric)
                from {schema}.mt_events e
                cross join lateral {RecordedUsageOf} u
                where e.type in ('usage_batch_recorded', 'usage_void_recorded')
                  and ((e.stream_id like 'usage:%:' || @period and e.data->>'AdjustmentFor' is null)
                       or (e.stream_id like any(@later) and e.data->>'AdjustmentFor' = @period))
                  and u->>'Meter' = '{Meters.GpuSeconds}' and u->>'GpuType' is not null
                group by 1
                """);
            command.Parameters.AddWithValue("period", period);
            command.Parameters.AddWithValue("later", IdleAllocation.MonthsHolding(period).Skip(1).Select(m => $"usage:%:{m}").ToArray());
            var seconds = new Dictionary<string, decimal>(StringComparer.Ordinal);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) seconds[reader.GetString(0)] = reader.GetDecimal(1);
            return seconds;
        }
    }

    /// <summary>The ledger's postings of the month, summed in PostgreSQL from the journal itself.</summary>
    private sealed record PostedAmounts(IReadOnlyDictionary<string, decimal> ByTenant, decimal Debits, decimal Credits, decimal IdleDebits, decimal Balance)
    {
        public static async Task<PostedAmounts> ReadAsync(BillingDatabase database, string schema, string period, CancellationToken ct)
        {
            await using var command = database.DataSource.CreateCommand($"""
                select p.data->>'Tenant', p.data->>'Kind' = '{PostingKinds.IdleAllocation}', l->>'Account' like 'expense:%', sum((l->>'Amount')::numeric)
                from {schema}.mt_doc_ledgerposting p cross join lateral jsonb_array_elements(p.data->'Lines') l
                where p.data->>'Period' = @period
                group by 1, 2, 3
                """);
            command.Parameters.AddWithValue("period", period);
            var byTenant = new Dictionary<string, decimal>(StringComparer.Ordinal);
            decimal debits = 0, credits = 0, idle = 0;
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var isIdle = reader.GetBoolean(1);
                var isExpense = reader.GetBoolean(2);
                var amount = reader.GetDecimal(3);
                if (!isExpense) credits += amount;
                else
                {
                    debits += amount;
                    if (isIdle) idle += amount;
                    else byTenant[reader.GetString(0)] = byTenant.GetValueOrDefault(reader.GetString(0)) + amount;
                }
            }
            return new PostedAmounts(byTenant, debits, credits, idle, debits + credits);
        }
    }

    /// <summary>Counts of the usage that belongs to the month by its timestamp, wherever it was recorded.</summary>
    private static class IntakeCounts
    {
        public static async Task<ReconciliationCounts> ReadAsync(BillingDatabase database, string schema, string period, CancellationToken ct)
        {
            BillingPeriod.TryParse(period, out var first);
            // Late usage and voids land on a later open month, at most three later (usage is accepted up to 62 days late).
            var streams = Enumerable.Range(0, 4).Select(i => $"usage:%:{first.AddMonths(i):yyyy-MM}").ToArray();
            await using var command = database.DataSource.CreateCommand($"""
                with usage as (
                    select e.type, e.data->>'AdjustmentFor' as adjustment_for, {CountOf} as count
                    from {schema}.mt_events e
                    cross join lateral {RecordedUsageOf} u
                    where e.stream_id like any(@streams) and e.type in ('usage_batch_recorded', 'usage_void_recorded')
                      and {DayOf} >= @first_day and {DayOf} < @end_day)
                select (select coalesce(sum(count), 0)::bigint from usage where type = 'usage_batch_recorded'),
                       (select coalesce(sum(duplicates), 0)::bigint from {schema}.{BillingStore.DuplicateCounts} where period = @period),
                       (select count(*) from {schema}.{BillingStore.DeadLetters}
                        where produced_at >= @start and produced_at < @end
                          and ((cause = '{DeadLetterCauses.Invalid}' and reason not like '$ %') or cause = '{DeadLetterHeaders.IngestRejected}')),
                       (select count(*) from {schema}.{BillingStore.DeadLetters}
                        where produced_at >= @start and produced_at < @end and cause <> '{DeadLetterHeaders.IngestRejected}'),
                       (select coalesce(sum(count), 0)::bigint from usage where type = 'usage_batch_recorded' and adjustment_for = @period),
                       (select coalesce(sum(count), 0)::bigint from usage where type = 'usage_void_recorded'),
                       (select count(*) from {schema}.{BillingStore.DeadLetters}
                        where produced_at >= @start and produced_at < @end and cause = '{DeadLetterCauses.Refused}')
                """);
            command.Parameters.AddWithValue("streams", streams);
            command.Parameters.AddWithValue("period", period);
            command.Parameters.AddWithValue("start", new DateTimeOffset(first.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero));
            command.Parameters.AddWithValue("end", new DateTimeOffset(first.AddMonths(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero));
            command.Parameters.AddWithValue("first_day", first);
            command.Parameters.AddWithValue("end_day", first.AddMonths(1));
            await using var reader = await command.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            return new ReconciliationCounts(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4), reader.GetInt64(5), reader.GetInt64(6));
        }
    }
}
