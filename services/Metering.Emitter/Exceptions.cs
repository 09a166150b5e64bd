using Metering.Contracts.Usage;

namespace Metering.Emitter;

/// <summary>The event breaks a rule of usage events v1; nothing was emitted.</summary>
public sealed class InvalidUsageException(IReadOnlyList<FieldError> errors)
    : ArgumentException("Invalid usage event: " + FieldError.Describe(errors))
{
    public IReadOnlyList<FieldError> Errors { get; } = errors;
}

/// <summary>The buffer is full (Kafka is slow or unreachable) and the emitter is configured to throw; nothing was emitted.</summary>
public sealed class UsageBufferFullException(int capacity)
    : InvalidOperationException($"{capacity} usage events are waiting for Kafka; the buffer is full.");

/// <summary>Events that Kafka had not acknowledged when the emitter had to give up on them. Re-emit them: ids keep them from counting twice.</summary>
public sealed class UsageNotDeliveredException(string message, IReadOnlyList<UsageEvent> events, Exception? inner = null)
    : Exception(message, inner)
{
    public IReadOnlyList<UsageEvent> Events { get; } = events;
}
