using Microsoft.Extensions.Configuration;

namespace Metering.ServiceDefaults;

/// <summary>
/// The environment variables every service reads. Names here are the contract with <c>./metering</c>,
/// the Kubernetes manifests and the Tiltfile.
/// </summary>
public static class MeteringSettings
{
    public const string PostgresVariable = "METERING_POSTGRES";
    public const string KafkaVariable = "KAFKA_BOOTSTRAP_SERVERS";
    public const string AdminTokenVariable = "METERING_ADMIN_TOKEN";
    public const string EmitterTokenVariable = "METERING_EMITTER_TOKEN";
    /// <summary>Viewer tokens, each scoped to a team: <c>team-a=token,team-b=token</c>. None by default.</summary>
    public const string ViewerTokensVariable = "METERING_VIEWER_TOKENS";
    public const string DevAdminToken = "dev-admin-token";
    public const string DevEmitterToken = "dev-emitter-token";

    public static string Postgres(IConfiguration configuration) => Required(configuration, PostgresVariable);

    public static string KafkaBootstrapServers(IConfiguration configuration) => Required(configuration, KafkaVariable);

    private static string Required(IConfiguration configuration, string name) =>
        configuration[name] is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"{name} is not set; see README 'Configuration'.");
}
