using JasperFx.Events;
using JasperFx.Events.Projections;
using Marten;
using Metering.Billing.Invoicing;
using Metering.Billing.Recording;

namespace Metering.Billing;

/// <summary>The Marten event store of Billing: string stream keys (tenant and month), receipts, inline projections.</summary>
public static class BillingStore
{
    public const string Schema = "billing";

    public static void Configure(StoreOptions opts, string connectionString, string schema = Schema)
    {
        opts.Connection(connectionString);
        opts.DatabaseSchemaName = schema;
        opts.Events.StreamIdentity = StreamIdentity.AsString;
        opts.Schema.For<UsageReceipt>().Identity(r => r.Id);
        opts.Schema.For<MonthlyUsage>().Identity(u => u.Id);
        opts.Projections.Add<MonthlyUsageProjection>(ProjectionLifecycle.Inline);
        // Projections fail loudly: an event that cannot be applied stops the projection instead of vanishing.
        opts.Projections.Errors.SkipApplyErrors = false;
        opts.Projections.Errors.SkipSerializationErrors = false;
        opts.Projections.Errors.SkipUnknownEvents = false;
    }
}
