namespace Metering.Contracts.Usage;

/// <summary>Response of <c>POST /v1/usage</c>: every event of the request was acknowledged by Kafka.</summary>
public sealed record UsageAccepted(int Accepted);
