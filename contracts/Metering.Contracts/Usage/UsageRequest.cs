namespace Metering.Contracts.Usage;

/// <summary>Body of <c>POST /v1/usage</c>: 1–1000 usage events, accepted all or nothing.</summary>
public sealed record UsageRequest(IReadOnlyList<UsageEvent> Events);
