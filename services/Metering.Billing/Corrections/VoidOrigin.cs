using Marten;
using Metering.Billing.TenantMonths;

namespace Metering.Billing.Corrections;

/// <summary>
/// Where a voided usage was recorded: the sequence of the event that recorded it. Projections that attribute usage
/// to teams (the ledger, spend) charge a void to whoever the recording was charged to, not to the tenant's team now.
/// </summary>
public static class VoidOrigin
{
    /// <summary>
    /// The recording event sits on a stream from the usage's month to the void's, before the void; null when none is
    /// found there.
    /// </summary>
    public static async Task<long?> RecordingSequenceAsync(IDocumentOperations operations, long voidSequence, UsageVoidRecorded voided, CancellationToken ct)
    {
        var streams = new List<string>();
        for (var m = BillingPeriod.Of(voided.Usage.Timestamp); string.CompareOrdinal(m, voided.Month) <= 0; m = BillingPeriod.Next(m))
            streams.Add(BillingPeriod.UsageStream(voided.Tenant, m));
        var sequences = await operations.AdvancedSql.QueryAsync<long>($"""
            select seq_id from {operations.DocumentStore.Options.Events.DatabaseSchemaName}.mt_events
            where stream_id = any(?) and type = 'usage_batch_recorded' and seq_id < ?
              and data->'Usage' @> jsonb_build_array(jsonb_build_object('Id', ?::text))
            order by seq_id limit 1
            """, ct, streams.ToArray(), voidSequence, voided.Usage.Id);
        return sequences.Count == 0 ? null : sequences[0];
    }
}
