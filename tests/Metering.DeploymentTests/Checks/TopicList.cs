using System.Globalization;
using Metering.Contracts;

namespace Metering.DeploymentTests.Checks;

/// <summary>One line of infra/k8s/platform/topics.txt, the list the topics Job and docker-compose create.</summary>
public sealed record ProvisionedTopic(string Name, int Partitions, string CleanupPolicy, long RetentionMs)
{
    public bool Compacted => CleanupPolicy.Split(',').Contains("compact");
}

public static class TopicList
{
    public const string RelativePath = "infra/k8s/platform/topics.txt";

    /// <summary>The longest the usage topic may keep a record: receipts that recognise a redelivery live 63 days.</summary>
    public static readonly TimeSpan UsageRetentionLimit = TimeSpan.FromDays(63);

    public static IReadOnlyList<ProvisionedTopic> Parse(string text) =>
        text.Split('\n')
            .Select(line => line.Trim())
            .Where(line => line.Length > 0 && !line.StartsWith('#'))
            .Select(line => line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
            .Select(f => new ProvisionedTopic(f[0], int.Parse(f[1], CultureInfo.InvariantCulture), f[2], long.Parse(f[3], CultureInfo.InvariantCulture)))
            .ToList();

    /// <summary>Differences between a provisioning list and KafkaTopics.All, and retention that would break a rule.</summary>
    public static IEnumerable<string> Check(IReadOnlyList<ProvisionedTopic> provisioned, string where)
    {
        foreach (var topic in KafkaTopics.All)
        {
            var p = provisioned.FirstOrDefault(t => t.Name == topic.Name);
            if (p is null) { yield return $"{where}: topic {topic.Name} is missing"; continue; }
            if (p.Partitions != topic.Partitions)
                yield return $"{where}: topic {topic.Name} has {p.Partitions} partitions; KafkaTopics.cs says {topic.Partitions}";
            if (p.Compacted != topic.Compacted)
                yield return $"{where}: topic {topic.Name} cleanup.policy={p.CleanupPolicy}; KafkaTopics.cs says compacted={topic.Compacted}";
        }
        foreach (var extra in provisioned.Where(p => KafkaTopics.All.All(t => t.Name != p.Name)))
            yield return $"{where}: topic {extra.Name} is not in KafkaTopics.cs";

        if (provisioned.FirstOrDefault(t => t.Name == KafkaTopics.Usage.Name) is { } usage &&
            (usage.RetentionMs <= 0 || usage.RetentionMs >= UsageRetentionLimit.TotalMilliseconds))
            yield return $"{where}: {usage.Name} retention.ms={usage.RetentionMs}; it must be positive and under 63 days (receipts are pruned after 63)";
        if (provisioned.FirstOrDefault(t => t.Name == KafkaTopics.RateCards.Name) is { } rateCards && (rateCards.RetentionMs != -1 || rateCards.Compacted))
            yield return $"{where}: {rateCards.Name} must keep every version (cleanup.policy=delete, retention.ms=-1): Budgets reads it from the start";
    }
}
