namespace Metering.IntegrationTests;

/// <summary>
/// Where each test class of the budgets store and grains starts: before every test a scratch database of its own
/// (so every row is the test's) with the budgets schema, and a data source on it; both dropped after the test.
/// </summary>
public abstract class BudgetDatabaseTests(string prefix) : IAsyncLifetime
{
    private ScratchDatabase? _database;
    private NpgsqlDataSource? _dataSource;

    protected ScratchDatabase Database => _database ?? throw new InvalidOperationException("the database is created in InitializeAsync");
    protected NpgsqlDataSource DataSource => _dataSource ?? throw new InvalidOperationException("the database is created in InitializeAsync");

    public virtual async Task InitializeAsync()
    {
        _database = await TestInfrastructure.CreateDatabaseAsync(prefix);
        await BudgetSilo.MigrateAsync(_database);
        _dataSource = NpgsqlDataSource.Create(_database.ConnectionString);
    }

    public virtual async Task DisposeAsync()
    {
        if (_dataSource is not null) await _dataSource.DisposeAsync();
        if (_database is not null) await _database.DisposeAsync();
    }
}
