using Confluent.Kafka;

namespace Metering.Kafka;

/// <summary>A topic's partitions as the broker's metadata lists them, asked through a client's own connection.</summary>
public static class TopicPartitions
{
    /// <summary>Every partition of <paramref name="topic"/>; a <see cref="KafkaException"/> when the broker cannot say or lists none.</summary>
    public static List<TopicPartition> Of(Handle client, string topic, TimeSpan timeout)
    {
        using var admin = new DependentAdminClientBuilder(client).Build();
        var metadata = admin.GetMetadata(topic, timeout).Topics.Single();
        if (metadata.Error.IsError) throw new KafkaException(metadata.Error);
        if (metadata.Partitions.Count == 0) throw new KafkaException(ErrorCode.UnknownTopicOrPart);
        return [.. metadata.Partitions.Select(p => new TopicPartition(topic, p.PartitionId))];
    }
}
