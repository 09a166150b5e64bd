namespace Metering.IntegrationTests;

/// <summary>The PostgreSQL and Kafka that <c>./metering test</c> provisions for the tests.</summary>
public static class TestInfrastructure
{
    public static string Postgres => Required("METERING_POSTGRES");
    public static string KafkaBootstrapServers => Required("KAFKA_BOOTSTRAP_SERVERS");

    public static string UniqueTenant(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..Math.Min(63, prefix.Length + 33)];

    private static string Required(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"{name} is not set: run the tests with ./metering test, which provisions PostgreSQL and Kafka.");
}
