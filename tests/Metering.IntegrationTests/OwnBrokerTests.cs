namespace Metering.IntegrationTests;

/// <summary>
/// Where each test class that injects faults into Kafka, or reads topics no other test may write to, starts: before
/// every test a development broker of its own (<see cref="DevKafkaProcess"/>), stopped after the test.
/// </summary>
public abstract class OwnBrokerTests : IAsyncLifetime
{
    private DevKafkaProcess? _kafka;

    protected DevKafkaProcess Kafka => _kafka ?? throw new InvalidOperationException("the broker starts in InitializeAsync");

    /// <summary>What a service reads to find this broker (<c>KAFKA_BOOTSTRAP_SERVERS</c>).</summary>
    protected IConfiguration Configuration => new ConfigurationBuilder()
        .AddInMemoryCollection(new Dictionary<string, string?> { ["KAFKA_BOOTSTRAP_SERVERS"] = Kafka.BootstrapServers })
        .Build();

    public virtual async Task InitializeAsync() => _kafka = await DevKafkaProcess.StartAsync();

    public virtual async Task DisposeAsync()
    {
        if (_kafka is not null) await _kafka.DisposeAsync();
    }

    /// <summary>Produces the records straight to the topic, in order, each acknowledged by the broker before the next.</summary>
    protected async Task ProduceAsync(string topic, params (string? Key, byte[]? Value)[] records)
    {
        using var producer = new ProducerBuilder<string?, byte[]?>(new ProducerConfig
        {
            BootstrapServers = Kafka.BootstrapServers, EnableIdempotence = true, Acks = Acks.All,
        }).Build();
        foreach (var (key, value) in records)
            await producer.ProduceAsync(topic, new Message<string?, byte[]?> { Key = key, Value = value });
    }
}
