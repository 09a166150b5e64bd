using System.Diagnostics;

namespace Metering.UsageTopic;

/// <summary>What one poll of the usage topic delivered: valid events and the records that break the v1 rules.</summary>
public sealed record UsageBatch(IReadOnlyList<UsageRecord> Usage, IReadOnlyList<RejectedRecord> Rejected)
{
    public int Count => Usage.Count + Rejected.Count;
}

/// <summary>
/// A valid usage event with the trace context it was produced in (one per Kafka record, shared by the events of a usage
/// batch v2), where it sits in the log (of a batch's events also its <see cref="Index"/>), and its original key,
/// bytes and produce time, to dead-letter it should a store refuse it: a v1 record's own bytes, and for an event of a
/// batch (<see cref="Payload"/> null) its v1 JSON, so the dead-letter topic holds one readable event per record.
/// </summary>
public sealed record UsageRecord(UsageEvent Usage, ActivityContext Parent, TopicPartitionOffset Origin, string? Key, byte[]? Payload, DateTimeOffset ProducedAt,
    int? Index = null)
{
    public RejectedRecord Refused(string reason) =>
        new(Key, Payload ?? UsageEventJson.Write(Usage), reason, Origin, ProducedAt, DeadLetterCause.Refused, Index);
}

/// <summary>
/// A record a consumer group does not count: its original key and bytes (of one event of a usage batch v2, that event's
/// v1 JSON and its <see cref="Index"/> in the batch), and why it was set apart.
/// </summary>
public sealed record RejectedRecord(string? Key, byte[] Payload, string Reason, TopicPartitionOffset Origin, DateTimeOffset ProducedAt,
    DeadLetterCause Cause = DeadLetterCause.Invalid, int? Index = null);

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
