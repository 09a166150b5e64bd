namespace Metering.Contracts.Budgets;

/// <summary>Body of <c>POST /v1/tenants/{tenant}/authorize</c>.</summary>
public sealed record AuthorizeRequest(string Meter, decimal Quantity, string? Model = null, string? GpuType = null, bool Reserve = false);

/// <summary>
/// Answer of <c>authorize</c>: 200 with <see cref="Allowed"/> true (and a <see cref="ReservationId"/> when reserved),
/// or 429 with the reason and the seconds until the blocking period resets.
/// </summary>
public sealed record AuthorizeResponse(bool Allowed, string? Reason = null, long? RetryAfterSeconds = null, string? ReservationId = null);

/// <summary>
/// Published on <c>metering.budget-status.v1</c> (compacted, keyed by tenant) whenever a tenant's status changes, so
/// every platform service knows at once which tenants are throttled.
/// </summary>
public sealed record BudgetStatusChanged(string Tenant, string Status, string? Reason, DateTimeOffset At);

/// <summary>
/// Published on <c>metering.budget-alerts.v1</c> once per limit and period when usage crosses a threshold: <see cref="Threshold"/>
/// is one of <see cref="AlertKinds"/>; <see cref="Forecast"/> is the forecast month-end usage of a <c>forecast</c> alert.
/// </summary>
public sealed record BudgetAlert(string Tenant, string Meter, string Period, DateOnly PeriodStart, string Threshold, decimal Used, decimal Limit,
    DateTimeOffset At, decimal? Forecast = null);
