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
    /// <summary>
    /// <c>true</c>: the service creates or updates its database schema when it starts. Default: only in Development;
    /// elsewhere run the service once with the argument <c>migrate</c> (e.g. a Kubernetes Job) or set it explicitly.
    /// </summary>
    public const string MigrateVariable = "METERING_MIGRATE";
    /// <summary>Budgets: how many open reservations one tenant may hold at once (default <see cref="DefaultMaxOpenReservations"/>); past it authorize with <c>reserve</c> is 429.</summary>
    public const string MaxOpenReservationsVariable = "METERING_MAX_OPEN_RESERVATIONS";
    public const int DefaultMaxOpenReservations = 1000;
    /// <summary>
    /// Where the service serves its metrics, apart from the API (<see cref="ManagementEndpoint"/>): one http URL, e.g.
    /// <c>http://+:5091</c> in a container. Default <c>http://127.0.0.1:</c> and the service's management port
    /// (Ingest 5090, Budgets 5091, Billing 5092).
    /// </summary>
    public const string ManagementUrlVariable = "METERING_MANAGEMENT_URL";
    public const string DevAdminToken = "dev-admin-token";
    public const string DevEmitterToken = "dev-emitter-token";

    public static string Postgres(IConfiguration configuration) => Required(configuration, PostgresVariable);

    public static string KafkaBootstrapServers(IConfiguration configuration) => Required(configuration, KafkaVariable);

    public static bool Migrate(IConfiguration configuration, bool isDevelopment) => Flag(configuration, MigrateVariable, isDevelopment);

    /// <summary>A <c>true</c> or <c>false</c> variable, <paramref name="unset"/> when it is not set; any other value refuses to start.</summary>
    public static bool Flag(IConfiguration configuration, string variable, bool unset) =>
        configuration[variable] is { Length: > 0 } value
            ? bool.TryParse(value, out var flag) ? flag : throw new InvalidOperationException($"{variable} must be true or false.")
            : unset;

    public static int MaxOpenReservations(IConfiguration configuration) =>
        configuration[MaxOpenReservationsVariable] is { Length: > 0 } value
            ? int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var max) && max > 0
                ? max
                : throw new InvalidOperationException($"{MaxOpenReservationsVariable} must be a whole number greater than 0.")
            : DefaultMaxOpenReservations;

    /// <summary>What a service says when it finds no schema and was not told to create one.</summary>
    public static string MissingSchema(string service, string detail) =>
        $"{service}'s database schema is missing or out of date ({detail}). Run the service once with the argument 'migrate', " +
        $"or set {MigrateVariable}=true; outside Development a service never changes the schema on its own.";

    private static string Required(IConfiguration configuration, string name) =>
        configuration[name] is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"{name} is not set; see README 'Configuration'.");
}
