namespace Metering.UsageTopic;

/// <summary>Records of one partition the group never got: offsets <see cref="First"/> to <see cref="Last"/>.</summary>
public sealed record OffsetGap(TopicPartition Partition, long First, long Last)
{
    public long Count => Last - First + 1;
}

/// <summary>
/// Notices records of the usage topic that a consumer group never got because the broker no longer had them when the
/// group reached them: retention on a real cluster, the development broker's bound on its own (it drops a partition's
/// oldest records past 5 MB, read or not). librdkafka then resets the offset to the oldest record kept and only logs
/// it, so the group would go on as if nothing were missing. The usage topic is written only by idempotent producers
/// outside transactions and is not compacted, so its offsets have no gaps: a record past the offset the group expected
/// next means the ones between are gone. Offsets before it (a redelivery after a restart) are not a gap.
/// One instance per consumer, used from its consuming thread only.
/// </summary>
public sealed class OffsetGaps
{
    private readonly Dictionary<TopicPartition, long> _next = [];

    /// <summary>Whether the offset the group expects next in <paramref name="partition"/> is known.</summary>
    public bool Knows(TopicPartition partition) => _next.ContainsKey(partition);

    /// <summary>The group's committed offset of a partition just assigned (none yet: nothing to compare with).</summary>
    public void Expect(TopicPartitionOffset committed)
    {
        if (committed.Offset.Value >= 0) _next[committed.TopicPartition] = committed.Offset.Value;
    }

    /// <summary>Partitions revoked or lost: the next owner, maybe this consumer again, starts from the committed offsets.</summary>
    public void Forget(IEnumerable<TopicPartition> partitions)
    {
        foreach (var partition in partitions) _next.Remove(partition);
    }

    /// <summary>The records skipped before <paramref name="record"/>, if any; from then on the record after it is expected.</summary>
    public OffsetGap? Observe(TopicPartitionOffset record)
    {
        var offset = record.Offset.Value;
        OffsetGap? gap = _next.TryGetValue(record.TopicPartition, out var expected) && offset > expected
            ? new OffsetGap(record.TopicPartition, expected, offset - 1)
            : null;
        _next[record.TopicPartition] = Math.Max(offset + 1, expected);
        return gap;
    }
}
