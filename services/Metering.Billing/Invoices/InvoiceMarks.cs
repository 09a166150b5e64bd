using JasperFx.Events;
using Marten.Events.Projections;
using Weasel.Postgresql;

namespace Metering.Billing.Invoices;

/// <summary>
/// The tenant-months whose invoice total the spend tenant month rollup cannot give (<see cref="MonthInvoices"/>): the
/// finalized ones, with the total they were frozen with, and those holding adjustment lines (late usage or a void of a
/// finalized month, usage a finalized month left unpriced), which the rollup counts on the usage's own day, not on the
/// invoice that bills it. A few rows a month, written inline with the events (<see cref="InvoiceMarksProjection"/>); a
/// <c>migrate</c> that creates the table fills it from the invoices stored before it existed.
/// </summary>
public static class InvoiceMarks
{
    public const string Table = "invoice_marks";

    public static void Register(StoreOptions opts, string schema)
    {
        var usage = $"{schema}.mt_doc_{nameof(MonthlyUsage).ToLowerInvariant()}";
        // On a new store the invoices' table may come after this one: there is nothing to fill then.
        var table = new BackfilledTable(new PostgresqlObjectName(schema, Table, SchemaUtils.IdentifierUsage.General), $"""
            do $$ begin
            if to_regclass('{usage}') is not null then
                insert into {schema}.{Table} (month, tenant, finalized_total, adjusted)
                select data->>'Month', data->>'Tenant', (data->'Finalized'->>'Total')::numeric,
                    exists (select 1 from jsonb_array_elements(coalesce(data->'Days', '[]')) d where d->>'AdjustmentFor' is not null)
                from {usage}
                where data->'Finalized'->>'Total' is not null
                   or exists (select 1 from jsonb_array_elements(coalesce(data->'Days', '[]')) d where d->>'AdjustmentFor' is not null);
            end if;
            end $$;
            """);
        table.AddColumn<string>("month").AsPrimaryKey();
        table.AddColumn<string>("tenant").AsPrimaryKey();
        table.AddColumn("finalized_total", "numeric");
        table.AddColumn<bool>("adjusted").NotNull();
        opts.Storage.ExtendedSchemaObjects.Add(table);
        opts.Projections.Add(new InvoiceMarksProjection(), JasperFx.Events.Projections.ProjectionLifecycle.Inline);
    }
}

/// <summary>
/// Inline: marks a tenant-month in the transaction that finalizes it or appends an adjustment to it, whoever appends
/// it, with one statement for all of the transaction's events. A mark only ever grows, so applying an event twice is harmless.
/// </summary>
public sealed class InvoiceMarksProjection : IProjection
{
    public Task ApplyAsync(IDocumentOperations operations, IReadOnlyList<IEvent> events, CancellationToken cancellation)
    {
        var marks = new Dictionary<(string Month, string Tenant), (string? Total, bool Adjusted)>();
        void Mark(string tenant, string month, string? total, bool adjusted)
        {
            var mark = marks.GetValueOrDefault((month, tenant));
            marks[(month, tenant)] = (total ?? mark.Total, adjusted || mark.Adjusted);
        }
        foreach (var e in events)
        {
            switch (e.Data)
            {
                case InvoiceFinalized finalized: Mark(finalized.Tenant, finalized.Month, finalized.Total, false); break;
                case UsageBatchRecorded { AdjustmentFor: not null } late: Mark(late.Tenant, late.Month, null, true); break;
                case UsageVoidRecorded { AdjustmentFor: not null } correction: Mark(correction.Tenant, correction.Month, null, true); break;
                case UnpricedUsageCarried carried: Mark(carried.Tenant, carried.Month, null, true); break;
            }
        }
        if (marks.Count == 0) return Task.CompletedTask;
        var rows = marks.ToList();
        operations.QueueSqlCommand($"""
            insert into {operations.DocumentStore.Options.DatabaseSchemaName}.{InvoiceMarks.Table} as m (month, tenant, finalized_total, adjusted)
            select month, tenant, total::numeric, adjusted from unnest(?::text[], ?::text[], ?::text[], ?::boolean[]) as t(month, tenant, total, adjusted)
            on conflict (month, tenant) do update
            set finalized_total = coalesce(excluded.finalized_total, m.finalized_total), adjusted = m.adjusted or excluded.adjusted
            """,
            rows.Select(r => r.Key.Month).ToArray(), rows.Select(r => r.Key.Tenant).ToArray(), rows.Select(r => r.Value.Total).ToArray(),
            rows.Select(r => r.Value.Adjusted).ToArray());
        return Task.CompletedTask;
    }
}
