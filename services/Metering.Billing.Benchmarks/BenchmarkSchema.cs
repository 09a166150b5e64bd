using Marten;
using Npgsql;

namespace Metering.Billing.Benchmarks;

/// <summary>
/// The schema of its own each benchmark runs on: a Billing store on <c>PREFIX_&lt;8 hex digits&gt;</c> of the benchmark's
/// PostgreSQL with every table made, dropped when disposed — also when the benchmark fails — unless it is kept (to try
/// query plans on).
/// </summary>
public sealed class BenchmarkSchema(string name, DocumentStore store, NpgsqlDataSource dataSource, bool keep) : IAsyncDisposable
{
    public string Name => name;
    public DocumentStore Store => store;
    public NpgsqlDataSource DataSource => dataSource;

    /// <summary>A new schema <c>PREFIX_&lt;8 hex digits&gt;</c> with every table of Billing made; kept when disposed if <paramref name="keep"/>.</summary>
    public static async Task<BenchmarkSchema> CreateAsync(string postgres, string prefix, bool keep = false)
    {
        var name = $"{prefix}_{Guid.NewGuid().ToString("N")[..8]}";
        var schema = new BenchmarkSchema(name, DocumentStore.For(opts => BillingStore.Configure(opts, postgres, name)), NpgsqlDataSource.Create(postgres), keep);
        try
        {
            await schema.Store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
            return schema;
        }
        catch
        {
            await schema.DisposeAsync();
            throw;
        }
    }

    public void Deconstruct(out string schema, out DocumentStore documents, out NpgsqlDataSource database) => (schema, documents, database) = (Name, Store, DataSource);

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!keep)
            {
                await using var drop = DataSource.CreateCommand($"drop schema if exists {Name} cascade");
                await drop.ExecuteNonQueryAsync(CancellationToken.None);
            }
        }
        finally
        {
            Store.Dispose();
            await DataSource.DisposeAsync();
        }
    }
}
