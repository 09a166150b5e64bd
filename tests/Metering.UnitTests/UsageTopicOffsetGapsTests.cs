using Confluent.Kafka;
using Metering.UsageTopic;

namespace Metering.UnitTests;

public class UsageTopicOffsetGapsTests
{
    private static readonly TopicPartition P0 = new("metering.usage.v1", 0);
    private static readonly TopicPartition P1 = new("metering.usage.v1", 1);

    private static TopicPartitionOffset At(TopicPartition partition, long offset) => new(partition, offset);

    [Fact]
    public void Records_following_the_committed_offset_leave_no_gap()
    {
        var gaps = new OffsetGaps();
        gaps.Expect(At(P0, 10));
        Assert.Null(gaps.Observe(At(P0, 10)));
        Assert.Null(gaps.Observe(At(P0, 11)));
        Assert.Null(gaps.Observe(At(P0, 12)));
    }

    [Fact]
    public void A_first_record_past_the_committed_offset_is_a_gap_of_the_records_between()
    {
        var gaps = new OffsetGaps();
        gaps.Expect(At(P0, 10));
        Assert.Equal(new OffsetGap(P0, 10, 4_999), gaps.Observe(At(P0, 5_000)));
        Assert.Equal(4_990, new OffsetGap(P0, 10, 4_999).Count);
        Assert.Null(gaps.Observe(At(P0, 5_001)));
    }

    [Fact]
    public void A_jump_in_the_middle_of_a_partition_is_a_gap_and_other_partitions_are_apart()
    {
        var gaps = new OffsetGaps();
        gaps.Expect(At(P0, 0));
        gaps.Expect(At(P1, 7));
        Assert.Null(gaps.Observe(At(P0, 0)));
        Assert.Null(gaps.Observe(At(P1, 7)));
        Assert.Equal(new OffsetGap(P0, 1, 2), gaps.Observe(At(P0, 3)));
        Assert.Null(gaps.Observe(At(P1, 8)));
    }

    [Fact]
    public void Without_a_committed_offset_the_first_record_sets_what_comes_next()
    {
        var gaps = new OffsetGaps();
        gaps.Expect(At(P0, Offset.Unset.Value));
        Assert.False(gaps.Knows(P0));
        Assert.Null(gaps.Observe(At(P0, 400)));
        Assert.True(gaps.Knows(P0));
        Assert.Equal(new OffsetGap(P0, 401, 401), gaps.Observe(At(P0, 402)));
    }

    [Fact]
    public void A_redelivered_record_is_not_a_gap_and_a_forgotten_partition_starts_over()
    {
        var gaps = new OffsetGaps();
        gaps.Expect(At(P0, 20));
        Assert.Null(gaps.Observe(At(P0, 5)));
        Assert.Null(gaps.Observe(At(P0, 20)));
        gaps.Forget([P0]);
        Assert.False(gaps.Knows(P0));
        Assert.Null(gaps.Observe(At(P0, 90)));
    }
}
