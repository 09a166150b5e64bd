using Metering.UsageTopic;

namespace Metering.Billing.TenantMonths;

/// <summary>
/// The tenant-month's reads and appends in a <see cref="BillingTransaction"/> begun under its tenants' locks
/// (<see cref="BillingLock.Tenant"/>): what <see cref="TenantMonth"/> decides on, and where its events go.
/// </summary>
public static class TenantMonthWrites
{
    /// <summary>Begins a write of tenant-months: each tenant's lock covers every month of it.</summary>
    public static Task<BillingTransaction> BeginTenantMonthsAsync(this BillingWriter writer, IEnumerable<string> tenants, CancellationToken ct,
        Wolverine.Marten.IMartenOutbox? outbox = null) =>
        writer.BeginAsync(tenants.Select(BillingLock.Tenant), ct, outbox);

    /// <summary>
    /// The finalized months among each of <paramref name="months"/> and those after it, through its first open one: what
    /// <see cref="TenantMonth"/> needs to know where usage lands. Open months are not loaded (the usage documents are large).
    /// </summary>
    public static async Task<FinalizedMonths> FinalizedFromAsync(this BillingTransaction write, IEnumerable<(string Tenant, string Month)> months, CancellationToken ct)
    {
        var finalized = new List<InvoiceFinalized>();
        var asked = months.Select(m => BillingPeriod.UsageStream(m.Tenant, m.Month)).Distinct(StringComparer.Ordinal).ToArray();
        while (asked.Length > 0)
        {
            var found = await write.Session.Query<MonthlyUsage>().Where(u => asked.Contains(u.Id) && u.Finalized != null).ToListAsync(ct);
            finalized.AddRange(found.Select(u => u.Finalized!));
            asked = found.Select(u => BillingPeriod.UsageStream(u.Tenant, BillingPeriod.Next(u.Month))).ToArray();
        }
        return new FinalizedMonths(finalized);
    }

    public static Task<MonthlyUsage?> MonthAsync(this BillingTransaction write, string tenant, string month, CancellationToken ct) =>
        write.Session.LoadAsync<MonthlyUsage>(BillingPeriod.UsageStream(tenant, month), ct);

    /// <summary>
    /// A usage and the event that recorded it, found through its receipt (no scan of the batches' JSON); null when none
    /// did. The usage is read from the usage kept beside its event, or, in an event stored before events held only
    /// totals, from the event's own list.
    /// </summary>
    public static async Task<UsageRecording?> RecordingOfAsync(this BillingTransaction write, string tenant, string usageId, CancellationToken ct)
    {
        var schema = write.Session.DocumentStore.Options.DatabaseSchemaName;
        var ids = await write.Session.AdvancedSql.QueryAsync<Guid>(UsageRecordings.EventOfSql(schema), ct, UsageKey.Of(tenant, usageId));
        if (ids.Count == 0 || (await write.Session.Events.LoadAsync(ids[0], ct))?.Data is not UsageBatchRecorded batch) return null;
        var usage = batch.Usage;
        if (batch.Totals is not null)
        {
            var kept = await write.Session.AdvancedSql.QueryAsync<string>(UsageRecordings.BatchUsageSql(schema), ct, ids[0]);
            usage = kept.Count == 0 ? [] : write.Session.DocumentStore.Options.Serializer().FromJson<List<RecordedUsage>>(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(kept[0])));
        }
        return usage.FirstOrDefault(u => u.Id == usageId) is { } found ? new UsageRecording(batch, found) : null;
    }

    public static async Task<bool> IsVoidedAsync(this BillingTransaction write, string tenant, string usageId, CancellationToken ct) =>
        await write.Session.LoadAsync<VoidReceipt>(VoidReceipt.IdOf(tenant, usageId), ct) is not null;

    /// <summary>Appends a decision's event to its tenant-month's stream.</summary>
    public static void Append(this BillingTransaction write, ITenantMonthEvent e) => write.Append(BillingPeriod.UsageStream(e.Tenant, e.Month), e);

    /// <summary>Appends a decision's event to its tenant-month's stream under the id its receipts already name.</summary>
    public static void Append(this BillingTransaction write, Guid id, ITenantMonthEvent e) => write.Append(BillingPeriod.UsageStream(e.Tenant, e.Month), id, e);

    /// <summary>Stores the usage's void receipt (a second one cannot be stored: its id is the usage's).</summary>
    public static void MarkVoided(this BillingTransaction write, string tenant, string usageId) =>
        write.Insert(new VoidReceipt(VoidReceipt.IdOf(tenant, usageId)));
}
