using Metering.UsageTopic;

namespace Metering.UnitTests;

public class UsageTopicUnreadPartitionsTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    private static TimeSpan At(int seconds) => TimeSpan.FromSeconds(seconds);

    [Fact]
    public void Records_waiting_at_the_same_committed_offset_for_the_patience_make_the_partition_unread()
    {
        var unread = new UnreadPartitions(Patience);
        Assert.Empty(unread.Observe([new(3, Committed: 100, Low: 0, High: 250)], At(10)));
        Assert.Empty(unread.Observe([new(3, 100, 0, 400)], At(99)));
        Assert.Equal([3], unread.Observe([new(3, 100, 0, 900)], At(100)));
    }

    [Fact]
    public void A_committed_offset_that_moves_is_a_member_reading_however_far_behind_it_is()
    {
        var unread = new UnreadPartitions(Patience);
        Assert.Empty(unread.Observe([new(3, 100, 0, 10_000)], At(0)));
        Assert.Empty(unread.Observe([new(3, 101, 0, 20_000)], At(80)));
        Assert.Empty(unread.Observe([new(3, 101, 0, 30_000)], At(160)));
        Assert.Equal([3], unread.Observe([new(3, 101, 0, 30_000)], At(170)));
    }

    [Fact]
    public void A_partition_with_nothing_waiting_is_never_unread_and_starts_afresh_when_records_arrive()
    {
        var unread = new UnreadPartitions(Patience);
        Assert.Empty(unread.Observe([new(3, 250, 0, 250)], At(0)));
        Assert.Empty(unread.Observe([new(3, 250, 0, 250)], At(500)));
        Assert.Empty(unread.Observe([new(3, 250, 0, 260)], At(600)));
        Assert.Empty(unread.Observe([new(3, 250, 0, 260)], At(689)));
        Assert.Equal([3], unread.Observe([new(3, 250, 0, 260)], At(690)));
    }

    [Fact]
    public void Without_a_committed_offset_records_wait_from_the_start_of_the_log()
    {
        var unread = new UnreadPartitions(Patience);
        // -1001: librdkafka's "no committed offset". Nothing past the log's start: nothing waits.
        Assert.Empty(unread.Observe([new(1, -1001, 40, 40), new(2, -1001, 0, 5)], At(0)));
        Assert.Equal([2], unread.Observe([new(1, -1001, 40, 40), new(2, -1001, 0, 5)], At(90)));
    }

    [Fact]
    public void A_partition_this_member_came_to_hold_starts_afresh_should_it_be_given_away_again()
    {
        var unread = new UnreadPartitions(Patience);
        Assert.Empty(unread.Observe([new(3, 100, 0, 250), new(4, 7, 0, 9)], At(0)));
        Assert.Empty(unread.Observe([new(4, 7, 0, 9)], At(50)));
        Assert.Equal([4], unread.Observe([new(3, 100, 0, 250), new(4, 7, 0, 9)], At(100)));
        Assert.Equal([3, 4], unread.Observe([new(3, 100, 0, 250), new(4, 7, 0, 9)], At(190)));
    }
}
