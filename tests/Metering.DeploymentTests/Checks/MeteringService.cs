using System.Text.RegularExpressions;
using Metering.ServiceDefaults;

namespace Metering.DeploymentTests.Checks;

/// <summary>
/// A deployable service as its code defines it: the name and default port passed to AddMeteringDefaults in its
/// Program.cs, its project, and the configuration it cannot start without.
/// </summary>
public sealed record MeteringService(string Name, string Project, int Port, IReadOnlySet<string> RequiredVariables)
{
    /// <summary>metering-ingest → ingest: the Kubernetes container name and the image's last segment.</summary>
    public string ShortName => Name["metering-".Length..];

    public string Image => "metering/" + ShortName;

    public string DockerfilePath => $"services/{Project}/Dockerfile";

    // Before All: static fields are initialised in order.
    private static readonly Regex Defaults = new(@"AddMeteringDefaults\(\s*""(?<name>[^""]+)""\s*,\s*defaultPort:\s*(?<port>\d+)\s*\)");

    /// <summary>Every service in services/ whose Program.cs calls AddMeteringDefaults.</summary>
    public static IReadOnlyList<MeteringService> All { get; } = Discover(RepositoryPaths.Root);

    public static MeteringService Named(string name) => All.Single(s => s.Name == name);

    private static IReadOnlyList<MeteringService> Discover(string root) =>
        Directory.GetDirectories(Path.Combine(root, "services"))
            .Select(dir => (dir, program: Path.Combine(dir, "Program.cs")))
            .Where(p => File.Exists(p.program))
            .Select(p => (p.dir, match: Defaults.Match(File.ReadAllText(p.program))))
            .Where(p => p.match.Success)
            .Select(p => new MeteringService(
                p.match.Groups["name"].Value,
                Path.GetFileName(p.dir),
                int.Parse(p.match.Groups["port"].Value, System.Globalization.CultureInfo.InvariantCulture),
                Required(p.dir)))
            .OrderBy(s => s.Port)
            .ToList();

    /// <summary>Every service needs Kafka and, outside Development, the admin and emitter tokens; PostgreSQL only where its code asks for it.</summary>
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
