namespace Metering.Contracts;

/// <summary>Response of <c>GET /v1/me</c> on every service: the role of the presented token, and a viewer's team.</summary>
public sealed record MeView(string Role, string? Team = null);
