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

    /// <summary>Each tenant's latest budget status (<c>BudgetStatusChanged</c>), keyed by tenant; compacted, so reading it from the start gives the current set.</summary>
    public static readonly KafkaTopic BudgetStatus = new("metering.budget-status.v1", 12, Compacted: true);

    /// <summary>Soft-threshold and alert-limit crossings (<c>BudgetAlert</c>), keyed by tenant.</summary>
    public static readonly KafkaTopic BudgetAlerts = new("metering.budget-alerts.v1", 3);

    /// <summary>Every rate-card version Billing accepted (<c>RateCardVersionView</c>), in order; one partition, kept forever.</summary>
    public static readonly KafkaTopic RateCards = new("metering.rate-cards.v1", 1);

    /// <summary>Voided usage (<c>UsageVoided</c>), keyed by tenant, so Budgets gives it back.</summary>
    public static readonly KafkaTopic UsageCorrections = new("metering.usage-corrections.v1", 12);

    public static IReadOnlyList<KafkaTopic> All { get; } = [Usage, UsageDeadLetters, BudgetStatus, BudgetAlerts, RateCards, UsageCorrections];
}
