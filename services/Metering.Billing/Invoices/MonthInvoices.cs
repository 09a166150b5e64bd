using System.Data;
using Metering.Billing.Spend;
using Npgsql;

namespace Metering.Billing.Invoices;

/// <summary>An invoice's total: a draft's priced now by <see cref="InvoicePricing"/>, a finalized one's as it was frozen.</summary>
public sealed record InvoiceTotal(string Tenant, string Status, decimal Total);

/// <summary>
/// The invoice totals of a month, for every tenant with usage in it (adjustments included): the invoice list and spend
/// by tenant and month. Pricing every tenant's <see cref="MonthlyUsage"/> is seconds at 10,000 tenants, so when one
/// rate-card version prices the whole month and the spend projection has counted everything recorded, the totals come
/// from spend's tenant month rollup instead (<see cref="InvoicePricing.AmountAt"/>: with one price per item a draft has
/// one line per item, and its quantity is the rollup's summed over teams), except for the tenants <see cref="InvoiceMarks"/>
/// names: a finalized invoice's total is the one it was frozen with, and a draft holding adjustment lines is priced
/// from its usage. Otherwise every tenant's usage is priced (<see cref="ExactTotalsAsync"/>).
/// </summary>
public static class MonthInvoices
{
    /// <param name="tenant">Only that tenant's invoice (one document to price), when given.</param>
    /// <param name="recordedThrough">
    /// The last event the totals must count (a spend read's, which waited for the projection to count it); null: every
    /// event recorded. Events after it count where they are already counted, as in the rest of a spend read.
    /// </param>
    public static async Task<IReadOnlyList<InvoiceTotal>> TotalsAsync(IQuerySession session, BillingDatabase database, string period, string? tenant,
        CancellationToken ct, long? recordedThrough = null)
    {
        var rateCards = await session.LoadAsync<RateCardHistory>(RateCardHistory.StreamKey, ct);
        if (tenant is not null)
            return await session.LoadAsync<MonthlyUsage>(BillingPeriod.UsageStream(tenant, period), ct) is { } usage ? [Of(usage, rateCards)] : [];
        if (!BillingPeriod.TryParse(period, out var first)) throw new ArgumentException($"Not a month: {period}", nameof(period));
        var last = first.AddMonths(1).AddDays(-1);
        if (RateCardHistory.OneVersionPrices(rateCards, first, last)
            && await FromRollupAsync(session, database, period, first, recordedThrough, rateCards?.InEffectOn(first)?.Table(), rateCards, ct) is { } fast)
            return fast;
        return await ExactTotalsAsync(session, period, rateCards, ct);
    }

    /// <summary>Every tenant's usage of the month loaded and priced: the definition the rollup's totals are held to.</summary>
    public static async Task<IReadOnlyList<InvoiceTotal>> ExactTotalsAsync(IQuerySession session, string period, RateCardHistory? rateCards, CancellationToken ct)
    {
        var usage = await session.Query<MonthlyUsage>().Where(u => u.Month == period).ToListAsync(ct);
        return usage.Select(u => Of(u, rateCards)).OrderBy(i => i.Tenant, StringComparer.Ordinal).ToList();
    }

    public static InvoiceTotal Of(MonthlyUsage usage, RateCardHistory? rateCards) => usage.Finalized is { } frozen
        ? new InvoiceTotal(usage.Tenant, InvoiceStatuses.Finalized, decimal.Parse(frozen.Total, CultureInfo.InvariantCulture))
        : new InvoiceTotal(usage.Tenant, InvoiceStatuses.Draft, InvoicePricing.Price(usage, rateCards).Total);

    /// <summary>
    /// The totals from the marks and the rollup, read in one snapshot, or null when the spend projection has not counted
    /// every event of that snapshot, or through <paramref name="recordedThrough"/> (the rollup would lack usage the invoices hold).
    /// </summary>
    private static async Task<IReadOnlyList<InvoiceTotal>?> FromRollupAsync(IQuerySession session, BillingDatabase database, string period, DateOnly first,
        long? recordedThrough, PriceTable? prices, RateCardHistory? rateCards, CancellationToken ct)
    {
        var schema = session.DocumentStore.Options.DatabaseSchemaName;
        var events = session.DocumentStore.Options.Events.DatabaseSchemaName;
        await using var connection = await database.DataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct);
        await using var batch = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand($"""
                    select (select coalesce(max(last_seq_id), 0) from {events}.mt_event_progression where name like '{SpendProjection.Name}:%')
                        >= coalesce($1, (select coalesce(max(seq_id), 0) from {events}.mt_events))
                    """) { Parameters = { new() { Value = (object?)recordedThrough ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bigint } } },
                new NpgsqlBatchCommand($"select tenant, finalized_total, adjusted from {schema}.{InvoiceMarks.Table} where month = $1") { Parameters = { new() { Value = period } } },
                // The marked tenants' invoices are not the rollup's: their rows are not read.
                new NpgsqlBatchCommand($"""
                    select r.tenant, r.meter, r.model, r.gpu_type, sum(r.quantity) from {schema}.{SpendTables.TenantMonthly} r
                    where r.month = $1 and not exists (select 1 from {schema}.{InvoiceMarks.Table} m where m.month = $2 and m.tenant = r.tenant)
                    group by 1, 2, 3, 4
                    """) { Parameters = { new() { Value = first }, new() { Value = period } } },
            },
        };
        await using var reader = await batch.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        if (!reader.GetBoolean(0)) return null;

        await reader.NextResultAsync(ct);
        var totals = new Dictionary<string, InvoiceTotal>(StringComparer.Ordinal);
        var adjusted = new HashSet<string>(StringComparer.Ordinal);
        while (await reader.ReadAsync(ct))
        {
            var tenant = reader.GetString(0);
            if (!reader.IsDBNull(1)) totals[tenant] = new InvoiceTotal(tenant, InvoiceStatuses.Finalized, reader.GetDecimal(1));
            else if (reader.GetBoolean(2)) adjusted.Add(tenant);
        }

        await reader.NextResultAsync(ct);
        var drafts = new Dictionary<string, decimal>(StringComparer.Ordinal);
        while (await reader.ReadAsync(ct))
        {
            var tenant = reader.GetString(0);
            drafts[tenant] = drafts.GetValueOrDefault(tenant)
                + InvoicePricing.AmountAt(prices, reader.GetString(1), SpendTables.Read(reader.GetString(2)), SpendTables.Read(reader.GetString(3)), reader.GetDecimal(4));
        }
        await reader.DisposeAsync();
        await transaction.CommitAsync(ct);

        foreach (var (tenant, total) in drafts) totals[tenant] = new InvoiceTotal(tenant, InvoiceStatuses.Draft, total);
        if (adjusted.Count > 0)
            foreach (var usage in await session.LoadManyAsync<MonthlyUsage>(ct, adjusted.Select(t => BillingPeriod.UsageStream(t, period))))
                totals[usage.Tenant] = Of(usage, rateCards);
        return totals.Values.OrderBy(i => i.Tenant, StringComparer.Ordinal).ToList();
    }
}
