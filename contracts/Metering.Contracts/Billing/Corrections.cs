namespace Metering.Contracts.Billing;

/// <summary>
/// Published on <c>metering.usage-corrections.v1</c> (keyed by tenant) when an admin voids a usage event: it stops
/// counting everywhere. <see cref="Day"/> is the UTC day of the event's own timestamp.
/// </summary>
public sealed record UsageVoided(string Tenant, string UsageId, string Meter, decimal Quantity, DateOnly Day, string? Model, string? GpuType,
    string Reason, DateTimeOffset At);

/// <summary>Answer of <c>POST /v1/usage/{tenant}/{id}/void</c>: where the compensation went.</summary>
public sealed record VoidView(string Tenant, string UsageId, string Meter, decimal Quantity, string Month, string? CorrectionOn, string Reason, DateTimeOffset At);

/// <summary>Body of <c>POST /v1/usage/{tenant}/{id}/void</c>.</summary>
public sealed record VoidRequest(string Reason);
