using Metering.Emitter;

namespace Metering.UnitTests;

/// <summary>What a flush of the emitter waits for: the events emitted before it, not those emitted while it waits.</summary>
public sealed class EmitterAcknowledgementsTests
{
    [Fact]
    public async Task A_flush_with_nothing_unacknowledged_is_done_at_once()
    {
        var acknowledgements = new Acknowledgements();
        var epoch = acknowledgements.Emitted();
        acknowledgements.Acknowledged([epoch]);

        var flush = acknowledgements.Flush();

        Assert.True(flush.IsCompletedSuccessfully);
        Assert.True(await flush);
    }

    [Fact]
    public async Task A_flush_completes_when_the_events_emitted_before_it_are_acknowledged_whatever_was_emitted_after()
    {
        var acknowledgements = new Acknowledgements();
        var before = new[] { acknowledgements.Emitted(), acknowledgements.Emitted() };
        var flush = acknowledgements.Flush();
        var after = acknowledgements.Emitted();

        acknowledgements.Acknowledged(before.AsSpan(0, 1));
        Assert.False(flush.IsCompleted);
        acknowledgements.Acknowledged(before.AsSpan(1, 1));

        Assert.True(flush.IsCompletedSuccessfully);
        Assert.True(await flush);
        Assert.False(acknowledgements.Flush().IsCompleted); // the later event is still unacknowledged
        Assert.NotEqual(before[0], after);
    }

    [Fact]
    public async Task A_later_flush_waits_for_what_an_earlier_one_waits_for_too_and_acknowledgements_may_come_in_any_order()
    {
        var acknowledgements = new Acknowledgements();
        var first = acknowledgements.Emitted();
        var earlier = acknowledgements.Flush();
        var second = acknowledgements.Emitted();
        var later = acknowledgements.Flush();

        acknowledgements.Acknowledged([second]);
        Assert.False(earlier.IsCompleted);
        Assert.False(later.IsCompleted);

        acknowledgements.Acknowledged([first]);
        Assert.True(earlier.IsCompleted && await earlier);
        Assert.True(later.IsCompleted && await later);
    }

    [Fact]
    public async Task Abandoning_completes_every_flush_waiting_or_to_come_as_not_acknowledged()
    {
        var acknowledgements = new Acknowledgements();
        acknowledgements.Emitted();
        var waiting = acknowledgements.Flush();

        acknowledgements.Abandon();

        Assert.True(waiting.IsCompleted);
        Assert.False(await waiting);
        Assert.False(await acknowledgements.Flush());
    }
}
