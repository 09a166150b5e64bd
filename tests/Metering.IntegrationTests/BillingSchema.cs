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
