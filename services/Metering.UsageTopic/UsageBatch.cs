using System.Diagnostics;
using Confluent.Kafka;
using Metering.Contracts.Usage;

namespace Metering.UsageTopic;

/// <summary>What one poll of the usage topic delivered: valid events and the records that break the v1 rules.</summary>
public sealed record UsageBatch(IReadOnlyList<UsageRecord> Usage, IReadOnlyList<RejectedRecord> Rejected)
{
    public int Count => Usage.Count + Rejected.Count;
}

/// <summary>A valid usage event with the trace context it was produced in and where it sits in the log.</summary>
public sealed record UsageRecord(UsageEvent Usage, ActivityContext Parent, TopicPartitionOffset Origin);

/// <summary>A record that is not a valid usage event v1: its original key and bytes, and why it was rejected.</summary>
public sealed record RejectedRecord(string? Key, byte[] Payload, string Reason, TopicPartitionOffset Origin, DateTimeOffset ProducedAt);
