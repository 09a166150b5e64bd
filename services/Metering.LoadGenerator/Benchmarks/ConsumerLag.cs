using Confluent.Kafka;

namespace Metering.LoadGenerator.Benchmarks;

/// <summary>
/// How far a consumer group is behind on a topic: the sum over partitions of the end of the log minus the group's
/// committed offset. Reads offsets only; it never joins the group.
/// </summary>
public sealed class ConsumerLag : IDisposable
{
    private readonly string _bootstrap;
    private readonly IReadOnlyList<TopicPartition> _partitions;
    private readonly Dictionary<string, IConsumer<byte[], byte[]>> _groups = new(StringComparer.Ordinal);

    public ConsumerLag(string bootstrap, string topic)
    {
        _bootstrap = bootstrap;
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).Build();
        _partitions = admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single().Partitions
            .Select(p => new TopicPartition(topic, p.PartitionId)).ToList();
    }

    public long Of(string group)
    {
        if (!_groups.TryGetValue(group, out var reader))
            _groups[group] = reader = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
            {
                BootstrapServers = _bootstrap,
                GroupId = group,
                EnableAutoCommit = false,
            }).Build();
        var committed = reader.Committed(_partitions, TimeSpan.FromSeconds(10));
        long lag = 0;
        foreach (var position in committed)
        {
            var watermarks = reader.QueryWatermarkOffsets(position.TopicPartition, TimeSpan.FromSeconds(10));
            var from = position.Offset.Value >= 0 ? position.Offset.Value : watermarks.Low.Value;
            lag += Math.Max(0, watermarks.High.Value - from);
        }
        return lag;
    }

    /// <summary>The sum of the topic's end offsets: how many records it has taken so far (of every producer).</summary>
    public long Produced()
    {
        if (!_groups.TryGetValue("", out var reader))
            _groups[""] = reader = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = _bootstrap, GroupId = "metering-bench-offsets", EnableAutoCommit = false }).Build();
        return _partitions.Sum(p => reader.QueryWatermarkOffsets(p, TimeSpan.FromSeconds(10)).High.Value);
    }

    public void Dispose()
    {
        foreach (var reader in _groups.Values) reader.Dispose();
    }
}
