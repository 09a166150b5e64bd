namespace Metering.IntegrationTests;

/// <summary>
/// Billing's event store in a schema of its own on the test server (made by <see cref="CreateAsync"/>, dropped when
/// disposed) and Billing's database on the same server: where each test class of Billing's storage starts.
/// </summary>
public sealed class BillingSchema(string prefix) : IAsyncDisposable
{
    public DocumentStore Store { get; } =
        DocumentStore.For(o => BillingStore.Configure(o, TestInfrastructure.Postgres, prefix + "_" + Guid.NewGuid().ToString("N")[..8]));

    public BillingDatabase Database { get; } = new(NpgsqlDataSource.Create(TestInfrastructure.Postgres));

    public Task CreateAsync() => Store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();

    public async Task AppendAsync(string stream, params object[] events)
    {
        await using var session = Store.LightweightSession();
        session.Events.Append(stream, events);
        await session.SaveChangesAsync();
    }

    /// <summary>Finalizes the tenant's month as Billing prices it: the invoice <see cref="InvoicePricing"/> makes of the month's usage and the rate cards so far; returns its total.</summary>
    public async Task<decimal> FinalizeAsync(string tenant, string month, DateTimeOffset at)
    {
        var stream = BillingPeriod.UsageStream(tenant, month);
        await using var session = Store.QuerySession();
        var usage = await session.LoadAsync<MonthlyUsage>(stream);
        var (lines, total) = InvoicePricing.Price(usage!, await session.LoadAsync<RateCardHistory>(RateCardHistory.StreamKey));
        await AppendAsync(stream, new InvoiceFinalized(tenant, month, lines, total.ToString("0.00", CultureInfo.InvariantCulture), at, "admin"));
        return total;
    }

    /// <summary>Runs the asynchronous projections until they have caught up with every event appended so far.</summary>
    public async Task CatchUpAsync()
    {
        using var daemon = await Store.BuildProjectionDaemonAsync();
        await daemon.StartAllAsync();
        await daemon.WaitForNonStaleData(TimeSpan.FromSeconds(30));
        await daemon.StopAllAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await Store.Advanced.Clean.CompletelyRemoveAllAsync();
        // The schema also holds Billing's plain tables (receipts, spend), which Marten's clean-up does not know.
        await using (var drop = Database.DataSource.CreateCommand($"drop schema if exists {Store.Options.DatabaseSchemaName} cascade"))
            await drop.ExecuteNonQueryAsync();
        Store.Dispose();
        await Database.DataSource.DisposeAsync();
    }
}
