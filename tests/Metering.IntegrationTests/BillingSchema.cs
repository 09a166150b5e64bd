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

    /// <summary>
    /// Appends events as they are; a <see cref="UsageBatchRecorded"/>'s usage gets its receipts naming it, in the same
    /// transaction, as the recorder (their one writer in Billing) writes them, so voids, the ledger and spend find it.
    /// </summary>
    public async Task<IReadOnlyList<JasperFx.Events.IEvent>> AppendAsync(string stream, params object[] events)
    {
        await using var session = Store.LightweightSession();
        var appended = session.Events.Append(stream, events).Events;
        var receipts = appended.Where(e => e.Data is UsageBatchRecorded)
            .SelectMany(e => ((UsageBatchRecorded)e.Data).Usage.Select(u => (Key: UsageKey.Of(((UsageBatchRecorded)e.Data).Tenant, u.Id), Event: e.Id, Period: BillingPeriod.Of(u.Timestamp))))
            .ToList();
        if (receipts.Count > 0)
            session.QueueSqlCommand($"""
                insert into {Name}.{BillingStore.UsageReceipts} (usage_key, event_id, period, recorded_on)
                select k, e, p, (current_timestamp at time zone 'UTC')::date from unnest(?::uuid[], ?::uuid[], ?::text[]) as t(k, e, p)
                on conflict do nothing
                """, receipts.Select(r => r.Key).ToArray(), receipts.Select(r => r.Event).ToArray(), receipts.Select(r => r.Period).ToArray());
        await session.SaveChangesAsync();
        return appended;
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
