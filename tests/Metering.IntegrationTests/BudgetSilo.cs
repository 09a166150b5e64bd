using Metering.Budgets.Broadcast;
using Metering.Budgets.RateCards;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
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
        builder.Services.AddSingleton<RateCardVersions>();
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
    public static List<string> BroadcastStatuses(string tenant, int count) =>
        Broadcast<BudgetStatusChanged>(KafkaTopics.BudgetStatus, tenant, count, quiet: TimeSpan.MaxValue, patience: TimeSpan.FromSeconds(20))
            .Select(s => s.Status).ToList();

    /// <summary>Every alert about the tenant on the alerts topic, read from the beginning until it has been quiet for 3 s (at most 30 s).</summary>
    public static List<BudgetAlert> BroadcastAlerts(string tenant) =>
        Broadcast<BudgetAlert>(KafkaTopics.BudgetAlerts, tenant, int.MaxValue, quiet: TimeSpan.FromSeconds(3), patience: TimeSpan.FromSeconds(30));

    /// <summary>The tenant's records on the topic from the beginning, until <paramref name="count"/> of them, a quiet spell or the patience ends.</summary>
    private static List<T> Broadcast<T>(KafkaTopic topic, string tenant, int count, TimeSpan quiet, TimeSpan patience)
    {
        using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
        {
            BootstrapServers = TestInfrastructure.KafkaBootstrapServers,
            GroupId = $"budget-silo-test-{Guid.NewGuid():N}",
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
        }).Build();
        // Assigned, not subscribed: no group to join, so the first record comes as soon as the broker sends it.
        consumer.Assign(Enumerable.Range(0, topic.Partitions).Select(p => new TopicPartitionOffset(topic.Name, p, Offset.Beginning)));
        var records = new List<T>();
        var quietSince = DateTime.UtcNow;
        var deadline = DateTime.UtcNow + patience;
        while (records.Count < count && DateTime.UtcNow - quietSince < quiet && DateTime.UtcNow < deadline)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is not { IsPartitionEOF: false } record) continue;
            quietSince = DateTime.UtcNow;
            if (record.Message.Key == tenant) records.Add(JsonSerializer.Deserialize<T>(record.Message.Value, MeteringJson.Options)!);
        }
        return records;
    }
}
