using JasperFx.Events;
using JasperFx.Events.Projections;
using Weasel.Postgresql;
using Weasel.Postgresql.Tables;

namespace Metering.Billing;

/// <summary>
/// The Marten event store of Billing: string stream keys (tenant and month), inline projections for invoices, rate
/// cards and teams, the asynchronous chargeback ledger and spend, and plain tables Marten migrates with it: usage receipts
/// (each with the event that recorded it), dead letters, duplicate counts and the spend quantities.
/// </summary>
public static class BillingStore
{
    public const string Schema = "billing";
    public const string UsageReceipts = "receipts";
    public const string BatchUsage = "batch_usage";
    public const string DeadLetters = "dead_letters";
    public const string DuplicateCounts = "duplicate_counts";

    public static void Configure(StoreOptions opts, string connectionString, string schema = Schema)
    {
        opts.Connection(connectionString);
        opts.DatabaseSchemaName = schema;
        opts.Events.StreamIdentity = StreamIdentity.AsString;
        // Appends need no read of the stream's version first; writers of one stream are serialised by advisory locks.
        opts.Events.AppendMode = EventAppendMode.Quick;
        TenantMonths.TenantMonthStore.Register(opts, schema);
        Invoices.InvoiceMarks.Register(opts, schema);
        opts.Schema.For<RateCardHistory>().Identity(h => h.Id);
        opts.Projections.Add<RateCardHistoryProjection>(ProjectionLifecycle.Inline);
        Chargeback.Teams.TeamStore.Register(opts);
        Chargeback.Ledger.LedgerProjection.Register(opts);
        Spend.SpendProjection.Register(opts, schema);
        // Projections fail loudly: an event that cannot be applied stops the projection instead of vanishing.
        opts.Projections.Errors.SkipApplyErrors = false;
        opts.Projections.Errors.SkipSerializationErrors = false;
        opts.Projections.Errors.SkipUnknownEvents = false;

        var receipts = new Table(new PostgresqlObjectName(schema, UsageReceipts, SchemaUtils.IdentifierUsage.General));
        // UsageKey of (tenant, id).
        receipts.AddColumn<Guid>("usage_key").AsPrimaryKey();
        // The UTC day the receipt was written. The recorder always writes it from its clock: the default follows the
        // session's time zone and is kept only so that the migrated schema stays as it was. Receipts are kept for good
        // (they hold the recordings), so nothing prunes by it any more.
        receipts.AddColumn("recorded_on", "date").NotNull().DefaultValueByExpression("current_date");
        // The UsageBatchRecorded event that recorded the usage (TenantMonths/UsageRecordings.cs); null: recorded before
        // receipts held it and not yet migrated.
        receipts.AddColumn("event_id", "uuid");
        // The month of the usage's timestamp: a re-sent copy counts as a duplicate of that month (null: written before it was kept).
        receipts.AddColumn("period", "text");
        opts.Storage.ExtendedSchemaObjects.Add(receipts);

        // The usage of each batch event that holds only its totals (TenantMonths/UsageRecordings.cs), one row per event,
        // as its JSON: written once, read by a void and the invoice's usage only, never by the projections.
        var batchUsage = new Table(new PostgresqlObjectName(schema, BatchUsage, SchemaUtils.IdentifierUsage.General));
        batchUsage.AddColumn<Guid>("event_id").AsPrimaryKey();
        // json, not jsonb: kept as written (PostgreSQL only checks it), compressed with the row.
        batchUsage.AddColumn("usage", "json").NotNull();
        opts.Storage.ExtendedSchemaObjects.Add(batchUsage);

        var deadLetters = new Table(new PostgresqlObjectName(schema, DeadLetters, SchemaUtils.IdentifierUsage.General));
        deadLetters.AddColumn<string>("origin").AsPrimaryKey();
        deadLetters.AddColumn<string>("record_key");
        deadLetters.AddColumn<string>("reason").NotNull();
        deadLetters.AddColumn("produced_at", "timestamptz").NotNull();
        deadLetters.AddColumn("recorded_at", "timestamptz").NotNull().DefaultValueByExpression("now()");
        // invalid (broke the usage rules or unreadable) or refused (a consumer's store refused it); the consumer groups that set it apart.
        deadLetters.AddColumn("cause", "text").NotNull().DefaultValueByExpression("'invalid'");
        deadLetters.AddColumn("groups", "text[]").NotNull().DefaultValueByExpression("'{}'");
        opts.Storage.ExtendedSchemaObjects.Add(deadLetters);

        // Redeliveries and re-sends dropped, per month of the usage's timestamp (reconciliation reports them).
        var duplicates = new Table(new PostgresqlObjectName(schema, DuplicateCounts, SchemaUtils.IdentifierUsage.General));
        duplicates.AddColumn<string>("period").AsPrimaryKey();
        duplicates.AddColumn<long>("duplicates").NotNull();
        opts.Storage.ExtendedSchemaObjects.Add(duplicates);
    }
}
