using Metering.Contracts;

namespace Metering.DeploymentTests;

public sealed class TopicProvisioningTests
{
    private static IReadOnlyList<ProvisionedTopic> Provisioned =>
        TopicList.Parse(File.ReadAllText(Path.Combine(BuildOutput.RepositoryRoot, TopicList.RelativePath)));

    [Fact]
    public void The_topic_list_is_exactly_KafkaTopics_with_partitions_and_compaction()
    {
        Assert.Empty(TopicList.Check(Provisioned, TopicList.RelativePath));
        Assert.Equal(
            KafkaTopics.All.Select(t => (t.Name, t.Partitions, t.Compacted)),
            Provisioned.Select(t => (t.Name, t.Partitions, t.Compacted)));
    }

    [Fact]
    public void The_usage_topic_keeps_records_less_than_the_63_days_receipts_live_and_rate_cards_forever()
    {
        var usage = Provisioned.Single(t => t.Name == KafkaTopics.Usage.Name);
        Assert.InRange(usage.RetentionMs, 1, (long)TopicList.UsageRetentionLimit.TotalMilliseconds - 1);
        Assert.Equal(-1, Provisioned.Single(t => t.Name == KafkaTopics.RateCards.Name).RetentionMs);
    }

    [Fact]
    public void The_topics_job_script_reads_the_list_and_never_raises_partitions()
    {
        var script = RepositoryScripts.AssertHolds("infra/k8s/platform/create-topics.sh", "topics.txt", "--if-not-exists");
        Assert.DoesNotContain("--alter --topic", script);
    }
}
