namespace Metering.Contracts;

/// <summary>A Kafka topic of Metering: its name, partition count and whether it is compacted.</summary>
public sealed record KafkaTopic(string Name, int Partitions, bool Compacted = false);

/// <summary>Every topic Metering uses. Provisioning (the development broker, the Kubernetes topic job) creates exactly these.</summary>
public static class KafkaTopics
{
    /// <summary>Usage events v1, keyed by tenant so one tenant's events stay in order.</summary>
    public static readonly KafkaTopic Usage = new("metering.usage.v1", 12);

    /// <summary>Messages of the usage topic that could not be parsed or broke a rule, with the reason in a header.</summary>
    public static readonly KafkaTopic UsageDeadLetters = new("metering.usage.dead-letters.v1", 1);

    public static IReadOnlyList<KafkaTopic> All { get; } = [Usage, UsageDeadLetters];
}
