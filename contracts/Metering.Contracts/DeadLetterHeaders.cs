namespace Metering.Contracts;

/// <summary>
/// The headers of a record on <see cref="KafkaTopics.UsageDeadLetters"/>: why it was set apart, where it came from
/// (unique per record), which consumer group set it apart, the cause, and the instant it is counted by.
/// </summary>
public static class DeadLetterHeaders
{
    public const string Reason = "metering-dead-letter-reason";
    public const string Origin = "metering-dead-letter-origin";
    public const string Group = "metering-dead-letter-group";
    public const string Cause = "metering-dead-letter-cause";
    public const string ProducedAt = "metering-dead-letter-produced-at";

    /// <summary>
    /// The cause of an event Ingest refused with 400: it never reached the usage topic. Its produced-at is the event's
    /// own timestamp when readable, so reconciliation counts it in the month it claimed.
    /// </summary>
    public const string IngestRejected = "ingest-rejected";
}
