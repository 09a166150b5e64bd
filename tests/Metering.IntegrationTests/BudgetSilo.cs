using System.Text.Json;
using Metering.Budgets.Broadcast;
using Metering.Budgets.Pricing;
using Metering.Budgets.Quotas;
using Metering.Budgets.Tracking;
using Metering.Contracts.Budgets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans;
using Orleans.Hosting;

namespace Metering.IntegrationTests;

/// <summary>
/// A Budgets silo of its own (localhost clustering, no HTTP) hosting the budget grains on a scratch database, with the
/// clock and settings a test gives it. PostgreSQL and Kafka are the real ones.
/// </summary>
public sealed class BudgetSilo : IAsyncDisposable
{
    private readonly IHost _host;

    private BudgetSilo(IHost host) => _host = host;

    public IServiceProvider Services => _host.Services;
    public IGrainFactory Grains => Services.GetRequiredService<IGrainFactory>();
    public BudgetStore Store => Services.GetRequiredService<BudgetStore>();
    public QuotaStore Quotas => Services.GetRequiredService<QuotaStore>();

    /// <summary>Creates the budgets schema; a silo started later finds whatever a test stored before it.</summary>
    public static async Task MigrateAsync(ScratchDatabase database)
    {
        await using var dataSource = NpgsqlDataSource.Create(database.ConnectionString);
        await new BudgetStore(dataSource).MigrateAsync(CancellationToken.None);
    }

    public static async Task<BudgetSilo> StartAsync(ScratchDatabase database, TimeProvider clock, IReadOnlyDictionary<string, string?>? settings = null)
    {
        await MigrateAsync(database);
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["KAFKA_BOOTSTRAP_SERVERS"] = TestInfrastructure.KafkaBootstrapServers });
        if (settings is not null) builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddSingleton(clock);
        var connectionString = database.ConnectionString;
        builder.Services.AddSingleton(_ => NpgsqlDataSource.Create(connectionString));
        builder.Services.AddSingleton<BudgetStore>();
        builder.Services.AddSingleton<QuotaStore>();
        builder.Services.AddSingleton<BudgetBroadcast>();
        builder.Services.AddSingleton<RateCards>();
        builder.UseOrleans(silo => silo.UseLocalhostClustering(FreePorts.Next(), FreePorts.Next()).AddBudgetGrains());
        var host = builder.Build();
        try
        {
            await host.StartAsync();
        }
        catch
        {
            host.Dispose();
            throw;
        }
        return new BudgetSilo(host);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }

    /// <summary>The first <paramref name="count"/> statuses published for the tenant on the compacted status topic, in order (fewer after 20 s).</summary>
    public static List<string> BroadcastStatuses(string tenant, int count)
    {
        using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
        {
            BootstrapServers = TestInfrastructure.KafkaBootstrapServers,
            GroupId = $"budget-silo-test-{Guid.NewGuid():N}",
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
        }).Build();
        consumer.Subscribe(KafkaTopics.BudgetStatus.Name);
        var statuses = new List<string>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (statuses.Count < count && DateTime.UtcNow < deadline)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is not { IsPartitionEOF: false } record || record.Message.Key != tenant) continue;
            statuses.Add(JsonSerializer.Deserialize<BudgetStatusChanged>(record.Message.Value, MeteringJson.Options)!.Status);
        }
        return statuses;
    }
}
