
namespace Metering.IntegrationTests;

/// <summary>
/// A <see cref="BudgetDatabaseTests"/> with a Budgets silo of its own on that database, started before every test on
/// a fake clock that reads <paramref name="start"/> (and with the settings given), stopped after the test.
/// </summary>
public abstract class BudgetSiloTests(string prefix, DateTimeOffset start, IReadOnlyDictionary<string, string?>? settings = null)
    : BudgetDatabaseTests(prefix)
{
    private BudgetSilo? _silo;

    protected FakeTimeProvider Clock { get; } = new(start);
    protected BudgetSilo Silo => _silo ?? throw new InvalidOperationException("the silo starts in InitializeAsync");

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _silo = await BudgetSilo.StartAsync(Database, Clock, settings);
    }

    public override async Task DisposeAsync()
    {
        if (_silo is not null) await _silo.DisposeAsync();
        await base.DisposeAsync();
    }
}
