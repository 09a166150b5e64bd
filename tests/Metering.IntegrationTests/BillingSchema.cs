namespace Metering.IntegrationTests;

/// <summary>
/// Billing's event store in a schema of its own on the test server (made by <see cref="CreateAsync"/>, removed when
/// disposed) and Billing's database on the same server: where each test class of Billing's storage starts.
/// </summary>
public sealed class BillingSchema(string prefix) : IAsyncDisposable
{
    public DocumentStore Store { get; } =
        DocumentStore.For(o => BillingStore.Configure(o, TestInfrastructure.Postgres, prefix + "_" + Guid.NewGuid().ToString("N")[..8]));

    public BillingDatabase Database { get; } = new(NpgsqlDataSource.Create(TestInfrastructure.Postgres));

    public Task CreateAsync() => Store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();

    public async ValueTask DisposeAsync()
    {
        await Store.Advanced.Clean.CompletelyRemoveAllAsync();
        Store.Dispose();
        await Database.DataSource.DisposeAsync();
    }
}
