namespace Metering.Billing;

/// <summary>Not told to migrate: refuse to start, with what to do, when the schema differs from what this build needs.</summary>
internal sealed class BillingSchemaCheck(IDocumentStore store) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await store.Storage.Database.AssertDatabaseMatchesConfigurationAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new InvalidOperationException(MeteringSettings.MissingSchema("Billing", ex.GetType().Name), ex);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
