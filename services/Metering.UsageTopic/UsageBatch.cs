using System.Diagnostics;

namespace Metering.UsageTopic;

/// <summary>What one poll of the usage topic delivered: valid events and the records that break the v1 rules.</summary>
public sealed record UsageBatch(IReadOnlyList<UsageRecord> Usage, IReadOnlyList<RejectedRecord> Rejected)
{
    public int Count => Usage.Count + Rejected.Count;
}

/// <summary>
/// A valid usage event with the trace context it was produced in, where it sits in the log, and its original key and
/// bytes and produce time, to dead-letter it as it was should a store refuse it.
/// </summary>
public sealed record UsageRecord(UsageEvent Usage, ActivityContext Parent, TopicPartitionOffset Origin, string? Key, byte[] Payload, DateTimeOffset ProducedAt)
{
    public RejectedRecord Refused(string reason) => new(Key, Payload, reason, Origin, ProducedAt, DeadLetterCause.Refused);
}

/// <summary>A record a consumer group does not count: its original key and bytes, and why it was set apart.</summary>
public sealed record RejectedRecord(string? Key, byte[] Payload, string Reason, TopicPartitionOffset Origin, DateTimeOffset ProducedAt,
    DeadLetterCause Cause = DeadLetterCause.Invalid);

public enum DeadLetterCause
{
    /// <summary>Not a valid usage event v1: unreadable, or it breaks a rule.</summary>
    Invalid,

    /// <summary>A valid event that a consumer's store refused for a reason tied to the record itself (a data error).</summary>
    Refused,
}

/// <summary>The names of <see cref="DeadLetterCause"/> in the dead-letter header and in Billing's count of dead letters.</summary>
public static class DeadLetterCauses
{
    public const string Invalid = "invalid";
    public const string Refused = "refused";

    public static string Name(DeadLetterCause cause) => cause == DeadLetterCause.Refused ? Refused : Invalid;
}
