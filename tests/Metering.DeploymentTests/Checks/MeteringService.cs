using Metering.ServiceDefaults;

namespace Metering.DeploymentTests.Checks;

/// <summary>
/// A deployable service as its code defines it: the name, default port and management port (its metrics) passed to
/// AddMeteringDefaults in its Program.cs, its project, the configuration it cannot start without, and how its
/// <c>migrate</c> argument runs.
/// </summary>
public sealed record MeteringService(string Name, string Project, int Port, int ManagementPort, IReadOnlySet<string> RequiredVariables, MigrateMode Migrate, ServiceKind Kind = ServiceKind.Api)
{
    /// <summary>What <c>dotnet Project.dll migrate</c> reads: PostgreSQL only, or everything a normal start needs.</summary>
    public IReadOnlySet<string> MigrateVariables => Migrate switch
    {
        MigrateMode.PostgresOnly => new HashSet<string> { MeteringSettings.PostgresVariable },
        MigrateMode.Host => RequiredVariables,
        _ => new HashSet<string>(),
    };

    /// <summary>metering-ingest → ingest: the Kubernetes container name and the image's last segment.</summary>
    public string ShortName => Name["metering-".Length..];

    public string Image => "metering/" + ShortName;

    /// <summary>Every image is a target of the one Dockerfile, named <see cref="ShortName"/>.</summary>
    public string DockerfilePath => DockerfileChecks.RelativePath;

    // Before All: static fields are initialised in order.
    private static readonly Regex Defaults = new(@"AddMetering(?<host>Host)?Defaults\(\s*""(?<name>[^""]+)""\s*,\s*defaultPort:\s*(?<port>\d+)\s*,\s*defaultManagementPort:\s*(?<management>\d+)\s*\)");
    private const string MigrateArgument = "args is [\"migrate\"";
    /// <summary>
    /// The console's host reads no token and no Kafka, but the URLs of the three APIs: its defaults (127.0.0.1) reach
    /// nothing in a pod or a container.
    /// </summary>
    private static readonly HashSet<string> ConsoleRequired =
        [Metering.Console.ConsoleSettings.IngestUrlVariable, Metering.Console.ConsoleSettings.BudgetsUrlVariable, Metering.Console.ConsoleSettings.BillingUrlVariable];

    /// <summary>Every service in services/ whose Program.cs calls AddMeteringDefaults (an API) or AddMeteringHostDefaults (the console's host).</summary>
    public static IReadOnlyList<MeteringService> All { get; } = Discover(BuildOutput.RepositoryRoot);

    public static MeteringService Named(string name) => All.Single(s => s.Name == name);

    private static IReadOnlyList<MeteringService> Discover(string root) =>
        Directory.GetDirectories(Path.Combine(root, "services"))
            .Select(dir => (dir, program: Path.Combine(dir, "Program.cs")))
            .Where(p => File.Exists(p.program))
            .Select(p => (p.dir, text: File.ReadAllText(p.program)))
            .Select(p => (p.dir, p.text, match: Defaults.Match(p.text)))
            .Where(p => p.match.Success)
            .Select(p => (p.dir, p.text, p.match, kind: p.match.Groups["host"].Success ? ServiceKind.Console : ServiceKind.Api))
            .Select(p => new MeteringService(
                p.match.Groups["name"].Value,
                Path.GetFileName(p.dir),
                int.Parse(p.match.Groups["port"].Value, System.Globalization.CultureInfo.InvariantCulture),
                int.Parse(p.match.Groups["management"].Value, System.Globalization.CultureInfo.InvariantCulture),
                p.kind == ServiceKind.Console ? ConsoleRequired : Required(p.dir),
                MigrateModeOf(p.text),
                p.kind))
            .OrderBy(s => s.Port)
            .ToList();

    /// <summary>
    /// <c>if (args is ["migrate", ..])</c> before the host is built (Budgets): a branch of its own that opens PostgreSQL
    /// only. Otherwise a <c>migrate</c> argument that the host handles (Billing: it starts briefly) needs a normal start's configuration.
    /// </summary>
    private static MigrateMode MigrateModeOf(string program) =>
        program.Contains("if (" + MigrateArgument, StringComparison.Ordinal) ? MigrateMode.PostgresOnly
        : program.Contains(MigrateArgument, StringComparison.Ordinal) ? MigrateMode.Host
        : MigrateMode.None;

    /// <summary>The service a variable such as METERING_BILLING_URL points at (metering-billing), or null.</summary>
    public static string? UpstreamOf(string variable) =>
        Regex.Match(variable, "^METERING_(?<service>[A-Z]+)_URL$") is { Success: true } m ? "metering-" + m.Groups["service"].Value.ToLowerInvariant() : null;

    /// <summary>An API service needs Kafka and, outside Development, the admin and emitter tokens; PostgreSQL only where its code asks for it.</summary>
    private static HashSet<string> Required(string projectDir)
    {
        var required = new HashSet<string> { MeteringSettings.KafkaVariable, MeteringSettings.AdminTokenVariable, MeteringSettings.EmitterTokenVariable };
        var usesPostgres = Directory.EnumerateFiles(projectDir, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"))
            .Any(f => File.ReadAllText(f).Contains("MeteringSettings.Postgres(", StringComparison.Ordinal));
        if (usesPostgres) required.Add(MeteringSettings.PostgresVariable);
        return required;
    }
}

/// <summary>An API (<c>AddMeteringDefaults</c>: bearer tokens, Kafka) or the web console's host (<c>AddMeteringHostDefaults</c>: no tokens of its own).</summary>
public enum ServiceKind { Api, Console }

/// <summary>How a service's <c>migrate</c> argument runs; <see cref="None"/>: the service has no database schema to migrate.</summary>
public enum MigrateMode { None, PostgresOnly, Host }
