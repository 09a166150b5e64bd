namespace Metering.IntegrationTests;

/// <summary>
/// Where each test class of Billing's storage starts: before every test a <see cref="BillingSchema"/> of its own
/// (the prefix names it), dropped after the test.
/// </summary>
public abstract class BillingStorageTests(string prefix) : IAsyncLifetime
{
    protected BillingSchema Billing { get; } = new(prefix);

    public virtual Task InitializeAsync() => Billing.CreateAsync();

    public virtual async Task DisposeAsync() => await Billing.DisposeAsync();
}
