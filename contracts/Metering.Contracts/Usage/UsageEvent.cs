namespace Metering.Contracts.Usage;

/// <summary>
/// Usage event v1 (PRODUCT §4). (<see cref="Tenant"/>, <see cref="Id"/>) is the idempotency key:
/// events with the same key are counted once however often they are delivered.
/// </summary>
public sealed record UsageEvent(
    string Id,
    string Tenant,
    string Meter,
    decimal Quantity,
    DateTimeOffset Timestamp,
    string? Model = null,
    string? GpuType = null,
    string? Service = null,
    IReadOnlyDictionary<string, string>? Attributes = null);
