using System.Reflection;
using Metering.Budgets.Clustering;
using Metering.ServiceDefaults;

namespace Metering.DeploymentTests.Checks;

/// <summary>The environment variables the services read: a deployment may set these and no others.</summary>
public static class ConfigurationVariables
{
    /// <summary>Read by ASP.NET Core, the .NET runtime and the OpenTelemetry SDK themselves.</summary>
    private static readonly string[] FrameworkPrefixes = ["ASPNETCORE_", "DOTNET_", "OTEL_"];

    public static IReadOnlySet<string> Known { get; } = Discover();

    public static bool IsRead(string variable) =>
        Known.Contains(variable) || FrameworkPrefixes.Any(p => variable.StartsWith(p, StringComparison.Ordinal));

    /// <summary>The Orleans variables a Budgets silo needs in a cluster, where 127.0.0.1 would not reach other silos.</summary>
    public static IReadOnlySet<string> ClusteredSilo { get; } = new HashSet<string>
    {
        PostgresClustering.AdvertisedIpVariable, PostgresClustering.SiloPortVariable,
    };

    private static HashSet<string> Discover()
    {
        // The named constants ...
        var known = new[] { typeof(MeteringSettings), typeof(PostgresClustering), typeof(SiloTls), typeof(MeteringTelemetry), typeof(Metering.Console.ConsoleSettings) }
            .SelectMany(t => t.GetFields(BindingFlags.Public | BindingFlags.Static))
            .Where(f => f.IsLiteral && f.Name.EndsWith("Variable", StringComparison.Ordinal))
            .Select(f => (string)f.GetRawConstantValue()!)
            .ToHashSet();
        // ... and the names services read inline, e.g. configuration["METERING_BILLING_GROUP_ID"].
        var inline = new Regex(@"[cC]onfiguration\[""(?<name>[A-Z][A-Z0-9_]+)""\]");
        foreach (var file in Directory.EnumerateFiles(Path.Combine(BuildOutput.RepositoryRoot, "services"), "*.cs", SearchOption.AllDirectories))
        {
            if (file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}")) continue;
            foreach (Match m in inline.Matches(File.ReadAllText(file))) known.Add(m.Groups["name"].Value);
        }
        return known;
    }
}
