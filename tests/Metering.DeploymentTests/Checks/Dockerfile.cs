using System.Globalization;

namespace Metering.DeploymentTests.Checks;

/// <summary>A Dockerfile as a list of instructions (continuation lines joined, comments dropped).</summary>
public sealed record DockerInstruction(string Keyword, string Arguments)
{
    /// <summary>The value of a flag such as <c>--from=app</c>, or null.</summary>
    public string? Flag(string name) =>
        Regex.Match(Arguments, $@"(?:^|\s)--{name}=(?<value>\S+)") is { Success: true } m ? m.Groups["value"].Value : null;

    /// <summary>The words after the flags: for COPY the sources, then the destination.</summary>
    public IReadOnlyList<string> Words => Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(w => !w.StartsWith("--", StringComparison.Ordinal)).ToList();
}

/// <summary>One build stage: what it is built FROM (an image or an earlier stage), its name and its instructions.</summary>
public sealed record DockerStage(string From, string? Name, IReadOnlyList<DockerInstruction> Instructions);

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

    /// <summary>The ARGs declared before the first FROM, with their defaults: what FROM lines may use.</summary>
    public IReadOnlyDictionary<string, string> GlobalArguments =>
        Instructions.TakeWhile(i => i.Keyword != "FROM").Where(i => i.Keyword == "ARG")
            .Select(i => i.Arguments.Split('=', 2))
            .ToDictionary(p => p[0], p => p.Length > 1 ? p[1].Trim('"') : "");

    public IReadOnlyList<DockerStage> Stages
    {
        get
        {
            var stages = new List<DockerStage>();
            foreach (var instruction in Instructions.SkipWhile(i => i.Keyword != "FROM"))
            {
                if (instruction.Keyword == "FROM")
                {
                    var words = instruction.Words;
                    stages.Add(new DockerStage(words[0], words.Count >= 3 && words[1].Equals("AS", StringComparison.OrdinalIgnoreCase) ? words[2] : null, []));
                }
                else stages[^1] = stages[^1] with { Instructions = [.. stages[^1].Instructions, instruction] };
            }
            return stages;
        }
    }

    /// <summary>
    /// The stages an image built with <c>--target name</c> is made of, the target first, then the stage it is built
    /// FROM and so on, with the build arguments given (else the defaults) substituted into FROM; the last one is FROM an image.
    /// </summary>
    public IReadOnlyList<DockerStage> Chain(string name, IReadOnlyDictionary<string, string>? buildArgs = null)
    {
        var args = GlobalArguments.ToDictionary();
        foreach (var (key, value) in buildArgs ?? new Dictionary<string, string>()) args[key] = value;
        var byName = Stages.Where(s => s.Name is not null).ToDictionary(s => s.Name!);
        var chain = new List<DockerStage>();
        for (var stage = byName.GetValueOrDefault(name); stage is not null && chain.Count < byName.Count;
             stage = byName.GetValueOrDefault(Regex.Replace(stage.From, @"\$\{(?<arg>\w+)\}", m => args.GetValueOrDefault(m.Groups["arg"].Value, ""))))
            chain.Add(stage);
        return chain;
    }

    /// <summary>The instructions of a chain in build order: the base stage's first, the target's last.</summary>
    public static IReadOnlyList<DockerInstruction> InstructionsOf(IReadOnlyList<DockerStage> chain) =>
        chain.Reverse().SelectMany(s => s.Instructions).ToList();
}

/// <summary>
/// What every service image must be: a target of the one Dockerfile, a multi-stage .NET 10 build, a non-root runtime,
/// its port, its health check; the console's also the web console built by Node.js.
/// </summary>
public static class DockerfileChecks
{
    public const string RelativePath = "Dockerfile";

    private static readonly Dictionary<string, string> ContainerBuild = new() { ["APP_SOURCE"] = "container" };
    private static readonly Dictionary<string, string> HostBuild = new() { ["APP_SOURCE"] = "host" };

    public static IEnumerable<string> Check(string root, MeteringService service)
    {
        var path = Path.Combine(root, RelativePath);
        if (!File.Exists(path)) { yield return $"{RelativePath}: missing"; yield break; }
        var file = Dockerfile.Parse(File.ReadAllText(path));
        var where = $"{RelativePath} target {service.ShortName}";
        var chain = file.Chain(service.ShortName);
        if (chain.Count == 0) { yield return $"{RelativePath}: no target {service.ShortName} (FROM ... AS {service.ShortName}) for {service.Project}"; yield break; }
        if (!file.All("FROM").Any(f => f.StartsWith("mcr.microsoft.com/dotnet/sdk:10.0", StringComparison.Ordinal)))
            yield return $"{RelativePath}: no build stage FROM mcr.microsoft.com/dotnet/sdk:10.0";
        if (!chain[^1].From.StartsWith("mcr.microsoft.com/dotnet/aspnet:10.0", StringComparison.Ordinal))
            yield return $"{where}: the runtime must be FROM mcr.microsoft.com/dotnet/aspnet:10.0, not {chain[^1].From}";
        var final = Dockerfile.InstructionsOf(chain);
        var user = final.LastOrDefault(i => i.Keyword == "USER")?.Arguments;
        if (user is null || user is "root" or "0" || !int.TryParse(user.Split(':')[0], out _))
            yield return $"{where}: the runtime must run as a numeric non-root USER (Kubernetes' runAsNonRoot checks it), not {user ?? "root"}";
        var exposed = final.Where(i => i.Keyword == "EXPOSE").SelectMany(i => i.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();
        if (!exposed.Contains(service.Port.ToString(CultureInfo.InvariantCulture)))
            yield return $"{where}: EXPOSE {string.Join(' ', exposed)} does not include the service's port {service.Port}";
        if (!final.Any(i => i.Keyword == "ENV" && Regex.IsMatch(i.Arguments, $@"ASPNETCORE_URLS=http://\+:{service.Port}\b")))
            yield return $"{where}: ASPNETCORE_URLS must listen on http://+:{service.Port}";
        if (!exposed.Contains(service.ManagementPort.ToString(CultureInfo.InvariantCulture)))
            yield return $"{where}: EXPOSE {string.Join(' ', exposed)} does not include the service's management port {service.ManagementPort}";
        var opened = new[] { service.Port, service.ManagementPort }
            .Concat(service.Name == "metering-budgets" ? [Metering.Budgets.Clustering.PostgresClustering.DefaultSiloPort] : [])
            .Select(p => p.ToString(CultureInfo.InvariantCulture));
        foreach (var port in exposed.Except(opened))
            yield return $"{where}: EXPOSE {port}, which {service.Project} does not open";
        if (!final.Any(i => i.Keyword == "ENV" && Regex.IsMatch(i.Arguments, $@"{Metering.ServiceDefaults.MeteringSettings.ManagementUrlVariable}=http://\+:{service.ManagementPort}\b")))
            yield return $"{where}: {Metering.ServiceDefaults.MeteringSettings.ManagementUrlVariable} must serve the metrics on http://+:{service.ManagementPort}";
        // The health check script takes the port from ASPNETCORE_URLS (above); a port it is given must be the service's.
        var health = final.LastOrDefault(i => i.Keyword == "HEALTHCHECK")?.Arguments ?? "";
        var healthPorts = Regex.Matches(health, @"""(\d+)""").Select(m => m.Groups[1].Value).ToList();
        if (!health.Contains(Metering.ServiceDefaults.MeteringDefaults.ReadyPath, StringComparison.Ordinal) || healthPorts.Any(p => p != service.Port.ToString(CultureInfo.InvariantCulture)))
            yield return $"{where}: HEALTHCHECK must ask {Metering.ServiceDefaults.MeteringDefaults.ReadyPath} on port {service.Port}";
        var entry = final.LastOrDefault(i => i.Keyword == "ENTRYPOINT")?.Arguments ?? "";
        if (!entry.Contains($"\"{service.Project}.dll\"", StringComparison.Ordinal))
            yield return $"{where}: ENTRYPOINT must start {service.Project}.dll";
        foreach (var problem in Application(root, file, service, chain[0], where)) yield return problem;
        if (service.Kind == ServiceKind.Console)
            foreach (var problem in WebApp(file, chain[0], final, where)) yield return problem;
    }

    /// <summary>
    /// The target copies /app/metering-&lt;name&gt;/ of the stage <c>app</c>: built from source (the sdk stage copies every
    /// project it references and publishes it there), or Tilt's host build in .tilt/publish/metering-&lt;name&gt;/.
    /// </summary>
    private static IEnumerable<string> Application(string root, Dockerfile file, MeteringService service, DockerStage target, string where)
    {
        var published = $"/app/{service.Name}/";
        var copy = target.Instructions.FirstOrDefault(i => i.Keyword == "COPY" && i.Flag("from") is not null && i.Words.Count >= 2 && i.Words[0] == published);
        if (copy is null) { yield return $"{where}: does not COPY --from=<build> {published}"; yield break; }
        var built = Dockerfile.InstructionsOf(file.Chain(copy.Flag("from")!, ContainerBuild));
        var sources = Sources(built).ToList();
        foreach (var project in ProjectClosure(root, $"services/{service.Project}/{service.Project}.csproj"))
            if (!sources.Any(s => Covers(s, Path.GetDirectoryName(project)!.Replace('\\', '/'))))
                yield return $"{where}: the build does not copy {project}, which {service.Project} references";
        if (!built.Any(i => i.Keyword == "RUN" && i.Arguments.Contains("dotnet publish", StringComparison.Ordinal)))
            yield return $"{where}: the stage {copy.Flag("from")} does not run dotnet publish";
        var projects = built.Where(i => i.Keyword == "ARG" && i.Arguments.StartsWith("SERVICES=", StringComparison.Ordinal))
            .SelectMany(i => i.Arguments["SERVICES=".Length..].Trim('"').Split(' ', StringSplitOptions.RemoveEmptyEntries));
        if (!projects.Contains(service.Project))
            yield return $"{where}: the build's SERVICES do not include {service.Project}";
        if (!Sources(Dockerfile.InstructionsOf(file.Chain(copy.Flag("from")!, HostBuild))).Any(s => Covers(s, $".tilt/publish/{service.Name}")))
            yield return $"{where}: with APP_SOURCE=host the image does not take Tilt's build in .tilt/publish/{service.Name}/";
    }

    /// <summary>The console's target also copies the web console's build, from a Node.js 20 stage that runs npm ci and npm run build, to METERING_CONSOLE_DIST.</summary>
    private static IEnumerable<string> WebApp(Dockerfile file, DockerStage target, IReadOnlyList<DockerInstruction> final, string where)
    {
        var dist = final.Where(i => i.Keyword == "ENV").Select(i => Regex.Match(i.Arguments, $@"{Metering.Console.ConsoleSettings.DistVariable}=(?<path>\S+)"))
            .LastOrDefault(m => m.Success)?.Groups["path"].Value;
        if (dist is null) { yield return $"{where}: does not set {Metering.Console.ConsoleSettings.DistVariable}"; yield break; }
        var workdir = final.LastOrDefault(i => i.Keyword == "WORKDIR")?.Arguments ?? "/";
        var copy = target.Instructions.FirstOrDefault(i => i.Keyword == "COPY" && i.Flag("from") is not null && i.Words.Count >= 2 &&
            Absolute(workdir, i.Words[^1]).TrimEnd('/') == dist.TrimEnd('/'));
        if (copy is null) { yield return $"{where}: copies no built app to {Metering.Console.ConsoleSettings.DistVariable} {dist}"; yield break; }
        var chain = file.Chain(copy.Flag("from")!, ContainerBuild);
        var app = Dockerfile.InstructionsOf(chain);
        if (chain.Count == 0 || !Regex.IsMatch(chain[^1].From, @"^node:20\b"))
            yield return $"{where}: the app copied to {dist} is not built FROM node:20";
        foreach (var step in new[] { "npm ci", "npm run build" })
            if (!app.Any(i => i.Keyword == "RUN" && i.Arguments.Contains(step, StringComparison.Ordinal)))
                yield return $"{where}: the app's build does not run {step}";
        foreach (var needed in new[] { "console", "docs/openapi" })
            if (!Sources(app).Any(s => Covers(s, needed)))
                yield return $"{where}: the app's build does not copy {needed}/ (its API types are generated from docs/openapi)";
    }

    /// <summary>Every Dockerfile in the repository: one, at the root, whose targets are exactly the services.</summary>
    public static IEnumerable<string> Single(string root, IReadOnlyList<MeteringService> services)
    {
        var skipped = new[] { ".git", "node_modules", "bin", "obj", ".metering", ".tilt" };
        foreach (var other in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
                     .Select(f => Path.GetRelativePath(root, f).Replace('\\', '/'))
                     .Where(f => !f.Split('/').Any(skipped.Contains))
                     .Where(f => IsDockerfile(Path.GetFileName(f)))
                     .Where(f => f != RelativePath)
                     .Order(StringComparer.Ordinal))
            yield return $"{other}: a second Dockerfile; every image is a target of {RelativePath}";
        var path = Path.Combine(root, RelativePath);
        if (!File.Exists(path)) yield break;
        var file = Dockerfile.Parse(File.ReadAllText(path));
        foreach (var stage in file.Stages.Where(s => s.Instructions.Any(i => i.Keyword == "ENTRYPOINT")))
            if (services.All(s => s.ShortName != stage.Name))
                yield return $"{RelativePath}: target {stage.Name ?? stage.From} has an ENTRYPOINT but is no service of services/";
    }

    /// <summary>Dockerfile, Containerfile, Dockerfile.dev, api.Dockerfile; not a source file named after them (Dockerfile.cs).</summary>
    private static bool IsDockerfile(string name) =>
        name is "Dockerfile" or "Containerfile" || name.EndsWith(".Dockerfile", StringComparison.OrdinalIgnoreCase) ||
        (name.StartsWith("Dockerfile.", StringComparison.Ordinal) && Path.GetExtension(name) is not (".cs" or ".md"));

    /// <summary>The sources of every COPY that takes files from the build context (no --from).</summary>
    private static IEnumerable<string> Sources(IEnumerable<DockerInstruction> instructions) =>
        instructions.Where(i => i.Keyword == "COPY" && i.Flag("from") is null && i.Words.Count >= 2).SelectMany(i => i.Words.Take(i.Words.Count - 1));

    /// <summary>Whether a COPY source (a folder such as <c>services/</c>) brings the folder <paramref name="folder"/> along.</summary>
    private static bool Covers(string source, string folder)
    {
        var normalized = source.StartsWith("./", StringComparison.Ordinal) ? source[2..] : source;
        return !normalized.Contains('*') && (folder + "/").StartsWith(normalized.TrimEnd('/') + "/", StringComparison.Ordinal);
    }

    private static string Absolute(string workdir, string path) =>
        path.StartsWith('/') ? path : workdir.TrimEnd('/') + "/" + (path.StartsWith("./", StringComparison.Ordinal) ? path[2..] : path);

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
