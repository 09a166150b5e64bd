using System.Text.RegularExpressions;

namespace Metering.DeploymentTests.Checks;

/// <summary>A Dockerfile as a list of instructions (continuation lines joined, comments dropped).</summary>
public sealed record DockerInstruction(string Keyword, string Arguments);

public sealed class Dockerfile(IReadOnlyList<DockerInstruction> instructions)
{
    public IReadOnlyList<DockerInstruction> Instructions { get; } = instructions;

    public static Dockerfile Parse(string text)
    {
        var instructions = new List<DockerInstruction>();
        var logical = Regex.Replace(text, @"\\\r?\n", " ");
        foreach (var raw in logical.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var space = line.IndexOf(' ');
            instructions.Add(space < 0 ? new(line.ToUpperInvariant(), "") : new(line[..space].ToUpperInvariant(), line[(space + 1)..].Trim()));
        }
        return new Dockerfile(instructions);
    }

    public IEnumerable<string> All(string keyword) => Instructions.Where(i => i.Keyword == keyword).Select(i => i.Arguments);

    /// <summary>The instructions of the last stage: what the image that runs is made of.</summary>
    public IReadOnlyList<DockerInstruction> FinalStage =>
        Instructions.Skip(Instructions.Select((i, n) => (i, n)).Last(x => x.i.Keyword == "FROM").n).ToList();
}

/// <summary>What every service image must be: a multi-stage .NET 10 build, a non-root runtime, its port, its health check.</summary>
public static class DockerfileChecks
{
    public static IEnumerable<string> Check(string root, MeteringService service)
    {
        var path = Path.Combine(root, service.DockerfilePath);
        if (!File.Exists(path)) { yield return $"{service.DockerfilePath}: missing"; yield break; }
        var file = Dockerfile.Parse(File.ReadAllText(path));
        var where = service.DockerfilePath;
        var froms = file.All("FROM").ToList();
        if (!froms.Any(f => f.StartsWith("mcr.microsoft.com/dotnet/sdk:10.0", StringComparison.Ordinal)))
            yield return $"{where}: no build stage FROM mcr.microsoft.com/dotnet/sdk:10.0";
        var final = file.FinalStage;
        if (!final[0].Arguments.StartsWith("mcr.microsoft.com/dotnet/aspnet:10.0", StringComparison.Ordinal))
            yield return $"{where}: the runtime stage must be FROM mcr.microsoft.com/dotnet/aspnet:10.0";
        var user = final.LastOrDefault(i => i.Keyword == "USER")?.Arguments;
        if (user is null || user is "root" or "0" || !int.TryParse(user.Split(':')[0], out _))
            yield return $"{where}: the runtime must run as a numeric non-root USER (Kubernetes' runAsNonRoot checks it), not {user ?? "root"}";
        var exposed = final.Where(i => i.Keyword == "EXPOSE").SelectMany(i => i.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();
        if (!exposed.Contains(service.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)))
            yield return $"{where}: EXPOSE {string.Join(' ', exposed)} does not include the service's port {service.Port}";
        if (!final.Any(i => i.Keyword == "ENV" && Regex.IsMatch(i.Arguments, $@"ASPNETCORE_URLS=http://\+:{service.Port}\b")))
            yield return $"{where}: ASPNETCORE_URLS must listen on http://+:{service.Port}";
        if (!exposed.Contains(service.ManagementPort.ToString(System.Globalization.CultureInfo.InvariantCulture)))
            yield return $"{where}: EXPOSE {string.Join(' ', exposed)} does not include the service's management port {service.ManagementPort}";
        var opened = new[] { service.Port, service.ManagementPort }
            .Concat(service.Name == "metering-budgets" ? [Metering.Budgets.Clustering.PostgresClustering.DefaultSiloPort] : [])
            .Select(p => p.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var port in exposed.Except(opened))
            yield return $"{where}: EXPOSE {port}, which {service.Project} does not open";
        if (!final.Any(i => i.Keyword == "ENV" && Regex.IsMatch(i.Arguments, $@"{Metering.ServiceDefaults.MeteringSettings.ManagementUrlVariable}=http://\+:{service.ManagementPort}\b")))
            yield return $"{where}: {Metering.ServiceDefaults.MeteringSettings.ManagementUrlVariable} must serve the metrics on http://+:{service.ManagementPort}";
        var health = final.SingleOrDefault(i => i.Keyword == "HEALTHCHECK")?.Arguments ?? "";
        if (!health.Contains($"\"{service.Port}\"", StringComparison.Ordinal) || !health.Contains(Metering.ServiceDefaults.MeteringDefaults.ReadyPath, StringComparison.Ordinal))
            yield return $"{where}: HEALTHCHECK must ask {Metering.ServiceDefaults.MeteringDefaults.ReadyPath} on port {service.Port}";
        var entry = final.SingleOrDefault(i => i.Keyword == "ENTRYPOINT")?.Arguments ?? "";
        if (!entry.Contains($"\"{service.Project}.dll\"", StringComparison.Ordinal))
            yield return $"{where}: ENTRYPOINT must start {service.Project}.dll";
        var copied = file.All("COPY").ToList();
        foreach (var project in ProjectClosure(root, $"services/{service.Project}/{service.Project}.csproj"))
            if (!copied.Any(c => c.StartsWith(Path.GetDirectoryName(project)!.Replace('\\', '/') + "/", StringComparison.Ordinal)))
                yield return $"{where}: the build does not copy {project}, which {service.Project} references";
    }

    /// <summary>A project and every project it references, transitively, as paths relative to the repository root.</summary>
    public static IReadOnlySet<string> ProjectClosure(string root, string project)
    {
        var seen = new HashSet<string>();
        var pending = new Stack<string>([project]);
        while (pending.TryPop(out var current))
        {
            if (!seen.Add(current)) continue;
            var dir = Path.GetDirectoryName(current)!;
            foreach (Match m in Regex.Matches(File.ReadAllText(Path.Combine(root, current)), @"ProjectReference Include=""([^""]+)"""))
                pending.Push(Path.GetRelativePath(root, Path.GetFullPath(Path.Combine(root, dir, m.Groups[1].Value))).Replace('\\', '/'));
        }
        return seen;
    }
}
