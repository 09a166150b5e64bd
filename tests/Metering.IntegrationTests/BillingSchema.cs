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

    public string Name => Store.Options.DatabaseSchemaName;

    /// <summary>Runs a statement on Billing's database; the rows it changed.</summary>
    public async Task<int> ExecuteAsync(string sql)
    {
        await using var command = Database.DataSource.CreateCommand(sql);
        return await command.ExecuteNonQueryAsync();
    }

    /// <summary>Every row of one of this schema's tables as PostgreSQL writes a row out (<c>(a,b,…)</c>), in order.</summary>
    public async Task<List<string>> RowsAsync(string table)
    {
        var rows = new List<string>();
        await using var command = Database.DataSource.CreateCommand($"select t::text from {Name}.{table} t order by 1");
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) rows.Add(reader.GetString(0));
        return rows;
    }

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
