using System.Globalization;
using Marten;
using Metering.Billing.Chargeback.Ledger;
using Metering.Billing.Chargeback.Statements;
using Metering.Billing.Invoicing;
using Metering.Billing.Pricing;
using Metering.Billing.Recording;
using Metering.Contracts.Billing;
using Metering.Contracts.Usage;
using Metering.ServiceDefaults;
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
        app.MapGet("/v1/reconciliation/{period}", HandleAsync).RequireAuthorization(Policies.Admin);

    private static async Task<IResult> HandleAsync(string period, IDocumentStore store, BillingDatabase database, CancellationToken ct)
    {
        if (!BillingPeriod.TryParse(period, out _))
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["period"] = ["must be a month as YYYY-MM"] });

        var current = await LedgerProgress.WaitUntilCurrentAsync(store, LedgerWait, ct);
        await using var session = store.QuerySession();
        var rateCards = await session.LoadAsync<RateCardHistory>(RateCardHistory.StreamKey, ct);
        var invoices = await session.Query<MonthlyUsage>().Where(u => u.Month == period).ToListAsync(ct);
        var recorded = await RecordedEvents.ReadAsync(database, store.Options.DatabaseSchemaName, period, ct);
        var ledger = await PostedAmounts.ReadAsync(database, store.Options.DatabaseSchemaName, period, ct);
        var statement = await GetChargeback.LoadAsync(store, period, scope: null, ct);

        var differences = new List<ReconciliationDifference>();
        var tenants = invoices.Select(i => i.Tenant).Concat(recorded.Streams.Keys).Concat(ledger.ByTenant.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        decimal usagePriced = 0, invoiced = 0;
        var unpriced = new List<UnpricedUsageView>();
        foreach (var tenant in tenants)
        {
            var invoice = invoices.FirstOrDefault(i => i.Tenant == tenant);
            // A finalized invoice was priced with the versions that existed when it was frozen.
            var cards = invoice?.Finalized is { } frozen && rateCards is not null
                ? rateCards with { Versions = rateCards.Versions.Where(v => v.AddedAt <= frozen.At).ToList() }
                : rateCards;
            var fromEvents = recorded.Streams.TryGetValue(tenant, out var usage) ? InvoicePricing.Price(usage, cards).Total : 0m;
            var (lines, fromInvoice) = invoice is null ? ([], 0m)
                : invoice.Finalized is { } f ? (f.Lines, decimal.Parse(f.Total, CultureInfo.InvariantCulture))
                : InvoicePricing.Price(invoice, rateCards);
            unpriced.AddRange(lines.Where(l => l.UnitPrice is null).Select(l => new UnpricedUsageView(tenant, l.Meter, l.Model, l.GpuType, l.AdjustmentFor, l.Quantity)));
            var fromLedger = ledger.ByTenant.GetValueOrDefault(tenant);
            usagePriced += fromEvents;
            invoiced += fromInvoice;
            if (fromEvents != fromInvoice) differences.Add(new("usage_priced vs invoice", tenant, Money(fromEvents), Money(fromInvoice)));
            if (fromInvoice != fromLedger) differences.Add(new("invoice vs ledger_debits", tenant, Money(fromInvoice), Money(fromLedger)));
        }

        var teams = statement.ToView(current).Teams;
        var statements = teams.Sum(t => Parse(t.Own.DirectCost) + Parse(t.Own.Corrections));
        var usageDebits = ledger.ByTenant.Values.Sum();
        if (statements != usageDebits) differences.Add(new("ledger_debits vs statements", null, Money(usageDebits), Money(statements)));
        if (ledger.Balance != 0) differences.Add(new("postings balance to zero", null, Money(0), Money(ledger.Balance)));

        ReconciliationCapacity? capacity = null;
        if (statement.Capacity is { } allocation)
        {
            var idleCost = allocation.Items.Sum(i => Parse(i.IdleCost));
            var allocated = allocation.Items.Sum(i => i.Shares.Sum(s => Parse(s.Amount)));
            var expectedPosted = allocation.Mode == CapacityModes.Chargeback ? allocated : 0m;
            capacity = new(allocation.Mode, Money(allocation.Items.Sum(i => Parse(i.Cost))), Money(idleCost), Money(allocated), Money(ledger.IdleDebits));
            if (allocated != idleCost) differences.Add(new("idle_cost vs allocated", null, Money(idleCost), Money(allocated)));
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
            if (ledger.IdleDebits != expectedPosted) differences.Add(new("allocated vs idle postings", null, Money(expectedPosted), Money(ledger.IdleDebits)));
        }

        var counts = await IntakeCounts.ReadAsync(database, store.Options.DatabaseSchemaName, period, ct);
        return Results.Ok(new ReconciliationView(period, GetInvoice.Currency, Money(usagePriced), Money(invoiced), Money(ledger.Debits), Money(ledger.Credits),
            Money(statements), capacity, counts, unpriced, differences, differences.Count == 0 && current, current));
    }

    private static decimal Parse(string amount) => decimal.Parse(amount, CultureInfo.InvariantCulture);

    private static string Money(decimal amount) => ChargebackStatement.Money(amount);

    /// <summary>The month's usage streams summed straight from the events in PostgreSQL, voids negative, per tenant.</summary>
    private sealed record RecordedEvents(IReadOnlyDictionary<string, MonthlyUsage> Streams)
    {
        public static async Task<RecordedEvents> ReadAsync(BillingDatabase database, string schema, string period, CancellationToken ct)
        {
            await using var command = database.DataSource.CreateCommand($"""
                select e.stream_id, u->>'Meter', u->>'Model', u->>'GpuType', ((u->>'Timestamp')::timestamptz at time zone 'UTC')::date,
                       e.data->>'AdjustmentFor', e.type = 'usage_void_recorded', sum((u->>'Quantity')::numeric)
                from {schema}.mt_events e
                cross join lateral jsonb_array_elements(case when e.type = 'usage_void_recorded' then jsonb_build_array(e.data->'Usage') else e.data->'Usage' end) u
                where e.stream_id like 'usage:%:' || @period and e.type in ('usage_batch_recorded', 'usage_void_recorded')
                group by 1, 2, 3, 4, 5, 6, 7
                """);
            command.Parameters.AddWithValue("period", period);
            var days = new Dictionary<string, List<DailyUsage>>(StringComparer.Ordinal);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var stream = reader.GetString(0);
                var meter = reader.GetString(1);
                var (model, gpuType) = Meters.ItemOf(meter, reader.IsDBNull(2) ? null : reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3));
                var adjustmentFor = reader.IsDBNull(5) ? null : reader.GetString(5);
                var isVoid = reader.GetBoolean(6);
                var quantity = reader.GetDecimal(7);
                var list = days.TryGetValue(stream, out var l) ? l : days[stream] = [];
                list.Add(new DailyUsage(meter, model, gpuType, DateOnly.FromDateTime(reader.GetDateTime(4)), isVoid ? -quantity : quantity, adjustmentFor));
            }
            var streams = days.ToDictionary(d => d.Key.Split(':')[1], d => new MonthlyUsage(d.Key, d.Key.Split(':')[1], period, []) { Days = d.Value },
                StringComparer.Ordinal);
            return new RecordedEvents(streams);
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
                cross join lateral jsonb_array_elements(case when e.type = 'usage_void_recorded' then jsonb_build_array(e.data->'Usage') else e.data->'Usage' end) u
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
                    select e.type, e.data->>'AdjustmentFor' as adjustment_for
                    from {schema}.mt_events e
                    cross join lateral jsonb_array_elements(case when e.type = 'usage_void_recorded' then jsonb_build_array(e.data->'Usage') else e.data->'Usage' end) u
                    where e.stream_id like any(@streams) and e.type in ('usage_batch_recorded', 'usage_void_recorded')
                      and (u->>'Timestamp')::timestamptz >= @start and (u->>'Timestamp')::timestamptz < @end)
                select (select count(*) from usage where type = 'usage_batch_recorded'),
                       (select coalesce(sum(duplicates), 0)::bigint from {schema}.{BillingStore.DuplicateCounts} where period = @period),
                       (select count(*) from {schema}.{BillingStore.DeadLetters}
                        where produced_at >= @start and produced_at < @end and cause = '{DeadLetterCauses.Invalid}' and reason not like '$ %'),
                       (select count(*) from {schema}.{BillingStore.DeadLetters} where produced_at >= @start and produced_at < @end),
                       (select count(*) from usage where type = 'usage_batch_recorded' and adjustment_for = @period),
                       (select count(*) from usage where type = 'usage_void_recorded'),
                       (select count(*) from {schema}.{BillingStore.DeadLetters}
                        where produced_at >= @start and produced_at < @end and cause = '{DeadLetterCauses.Refused}')
                """);
            command.Parameters.AddWithValue("streams", streams);
            command.Parameters.AddWithValue("period", period);
            command.Parameters.AddWithValue("start", new DateTimeOffset(first.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero));
            command.Parameters.AddWithValue("end", new DateTimeOffset(first.AddMonths(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero));
            await using var reader = await command.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            return new ReconciliationCounts(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4), reader.GetInt64(5), reader.GetInt64(6));
        }
    }
}
