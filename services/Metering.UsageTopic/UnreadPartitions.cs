namespace Metering.UsageTopic;

/// <summary>Where the group stands in one partition this member does not hold: its committed offset and the log's ends.</summary>
public sealed record PartitionProgress(int Partition, long Committed, long Low, long High)
{
    /// <summary>Records wait for the group: the log goes on past the committed offset (or past its start, when nothing was committed).</summary>
    public bool HasWaiting => High > Math.Max(Committed, Low);
}

/// <summary>
/// Notices partitions of the usage topic that no member of the group reads: records wait in them and the group's committed
/// offset has not moved for <paramref name="patience"/>. The broker normally gives a dead member's partitions to the
/// living ones after the session timeout; the development broker was seen not to, leaving a member with a stale
/// assignment while the dead member's partitions went unread. A living member that is merely slow commits each batch,
/// and one whose batch is stuck gives up after the store timeout and rejoins by itself: the patience must exceed both.
/// Pure: the caller passes what it read from the broker and the time. One instance per consumer, used from its
/// consuming thread only.
/// </summary>
public sealed class UnreadPartitions(TimeSpan patience)
{
    private readonly Dictionary<int, (long Committed, TimeSpan Since)> _stalled = [];

    /// <summary>
    /// Takes the progress of the partitions this member does not hold, seen at <paramref name="now"/>; returns those
    /// whose records have waited at the same committed offset for the patience or longer.
    /// </summary>
    public IReadOnlyList<int> Observe(IEnumerable<PartitionProgress> notHeld, TimeSpan now)
    {
        var seen = new HashSet<int>();
        var unread = new List<int>();
        foreach (var progress in notHeld)
        {
            seen.Add(progress.Partition);
            if (!progress.HasWaiting)
            {
                _stalled.Remove(progress.Partition);
                continue;
            }
            if (!_stalled.TryGetValue(progress.Partition, out var stalled) || stalled.Committed != progress.Committed)
            {
                _stalled[progress.Partition] = (progress.Committed, now);
                continue;
            }
            if (now - stalled.Since >= patience) unread.Add(progress.Partition);
        }
        // A partition now held here, or no longer reported, starts afresh if it is ever reported again.
        foreach (var partition in _stalled.Keys.Where(p => !seen.Contains(p)).ToList()) _stalled.Remove(partition);
        return unread;
    }
}
