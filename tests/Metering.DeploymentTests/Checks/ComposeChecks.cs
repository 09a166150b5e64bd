using Metering.ServiceDefaults;
using YamlDotNet.RepresentationModel;

namespace Metering.DeploymentTests.Checks;

/// <summary>docker-compose.yml: the same services, ports, variables and topic list as the code and the manifests.</summary>
public static class ComposeChecks
{
    public const string RelativePath = "docker-compose.yml";

    public static IEnumerable<string> Check(string root, IReadOnlyList<MeteringService> services)
    {
        var stream = new YamlStream();
        using (var reader = new StreamReader(Path.Combine(root, RelativePath))) stream.Load(reader);
        var composeServices = (YamlMappingNode)((YamlMappingNode)stream.Documents[0].RootNode)["services"];
        var byName = composeServices.Children.ToDictionary(kv => ((YamlScalarNode)kv.Key).Value!, kv => (YamlMappingNode)kv.Value);

        foreach (var service in services)
        {
            var entry = byName.Values.FirstOrDefault(s => BuiltAs(s, service) && !IsMigrate(s));
            if (entry is null) { yield return $"{RelativePath}: no service built from {service.DockerfilePath} with target {service.ShortName}"; continue; }
            var where = $"{RelativePath}: {byName.First(kv => kv.Value == entry).Key}";
            if (Scalar(entry, "image") != service.Image) yield return $"{where}: image {Scalar(entry, "image")} is not {service.Image}";
            if (Sequence(entry, "ports").All(p => p != $"{service.Port}:{service.Port}"))
                yield return $"{where}: ports do not publish {service.Port}:{service.Port}";
            var env = Mapping(entry, "environment");
            if (env.GetValueOrDefault("ASPNETCORE_URLS")?.EndsWith($":{service.Port}", StringComparison.Ordinal) != true)
                yield return $"{where}: ASPNETCORE_URLS is {env.GetValueOrDefault("ASPNETCORE_URLS") ?? "missing"}; the service's port is {service.Port}";
            var management = env.GetValueOrDefault(MeteringSettings.ManagementUrlVariable);
            if (management?.EndsWith($":{service.ManagementPort}", StringComparison.Ordinal) != true)
                yield return $"{where}: {MeteringSettings.ManagementUrlVariable} is {management ?? "missing"}; the service's management port is {service.ManagementPort}";
            foreach (var published in Sequence(entry, "ports").Where(p => p.EndsWith($":{service.ManagementPort}", StringComparison.Ordinal) && !p.StartsWith("127.0.0.1:", StringComparison.Ordinal)))
                yield return $"{where}: publishes the management port as {published}; the metrics carry tenants and spend: publish it on 127.0.0.1 only";
            foreach (var name in env.Keys.Where(n => !ConfigurationVariables.IsRead(n)))
                yield return $"{where}: sets {name}, which no service reads";
            foreach (var required in service.RequiredVariables.Where(r => !env.ContainsKey(r)))
                yield return $"{where}: does not set {required}, which {service.Project} requires";
            if (service.RequiredVariables.Contains(MeteringSettings.KafkaVariable) && Scalar(entry, "depends_on", "kafka-topics", "condition") != "service_completed_successfully")
                yield return $"{where}: must start after kafka-topics completed";
            foreach (var (variable, value) in env.Where(kv => service.RequiredVariables.Contains(kv.Key) && MeteringService.UpstreamOf(kv.Key) is not null))
            {
                var upstream = services.FirstOrDefault(s => s.Name == MeteringService.UpstreamOf(variable));
                var expected = upstream is null ? null : byName.FirstOrDefault(kv => BuiltAs(kv.Value, upstream) && !IsMigrate(kv.Value)).Key;
                if (upstream is null || expected is null || value != $"http://{expected}:{upstream.Port}")
                    yield return $"{where}: {variable} is {value}; it must reach {MeteringService.UpstreamOf(variable)} at http://{expected ?? "?"}:{upstream?.Port.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"}";
            }
            if (service.Migrate != MigrateMode.None)
                foreach (var problem in Migration(byName, service, where, entry)) yield return problem;
        }

        if (!byName.TryGetValue("kafka-topics", out var topics)) { yield return $"{RelativePath}: no kafka-topics service"; yield break; }
        var mount = Sequence(topics, "volumes").Select(v => v.Split(':')).FirstOrDefault(v => v.Length > 1 && v[1] == "/topics");
        var listPath = mount is null ? null : Path.Combine(root, mount[0], "topics.txt");
        if (listPath is null || !File.Exists(listPath)) yield return $"{RelativePath}: kafka-topics must mount the folder of {TopicList.RelativePath} at /topics";
        else foreach (var problem in TopicList.Check(TopicList.Parse(File.ReadAllText(listPath)), $"{RelativePath} → {Path.GetRelativePath(root, listPath)}")) yield return problem;

        if (byName.GetValueOrDefault("kafka") is not { } kafka || KubernetesChecks.ImageName(Scalar(kafka, "image") ?? "") != "apache/kafka" ||
            Mapping(kafka, "environment").GetValueOrDefault("KAFKA_PROCESS_ROLES")?.Contains("controller") != true)
            yield return $"{RelativePath}: kafka must be apache/kafka in KRaft mode";

        foreach (var (name, entry) in byName)
            foreach (var volume in Sequence(entry, "volumes").Where(v => v.StartsWith("./", StringComparison.Ordinal)))
                if (volume.Split(':')[0] is var source && !File.Exists(Path.Combine(root, source)) && !Directory.Exists(Path.Combine(root, source)))
                    yield return $"{RelativePath}: {name} mounts {source}, which does not exist";

        foreach (var (name, entry) in byName.Where(kv => Mapping(kv.Value, "environment").ContainsKey(MeteringTelemetry.OtlpEndpointVariable)))
            if (new Uri(Mapping(entry, "environment")[MeteringTelemetry.OtlpEndpointVariable]).Host is var host && !byName.ContainsKey(host))
                yield return $"{RelativePath}: {name} exports OTLP to {host}, which is not a service here";
    }

    /// <summary>
    /// A one-shot service runs the same image with the argument migrate, with what that reads, after PostgreSQL (and
    /// the topics, when migrate starts the whole host); the service starts after it completed and does not migrate itself.
    /// </summary>
    private static IEnumerable<string> Migration(Dictionary<string, YamlMappingNode> byName, MeteringService service, string where, YamlMappingNode entry)
    {
        var (name, migrate) = byName.FirstOrDefault(kv => BuiltAs(kv.Value, service) && IsMigrate(kv.Value));
        if (migrate is null) { yield return $"{RelativePath}: no one-shot service built from {service.DockerfilePath} with target {service.ShortName} and command [\"migrate\"]"; yield break; }
        var migrateWhere = $"{RelativePath}: {name}";
        if (Scalar(migrate, "image") != service.Image) yield return $"{migrateWhere}: image {Scalar(migrate, "image")} is not {service.Image}";
        var env = Mapping(migrate, "environment");
        foreach (var variable in env.Keys.Where(n => !ConfigurationVariables.IsRead(n)))
            yield return $"{migrateWhere}: sets {variable}, which no service reads";
        foreach (var required in service.MigrateVariables.Where(r => !env.ContainsKey(r)))
            yield return $"{migrateWhere}: does not set {required}, which {service.Project} migrate needs";
        if (Scalar(migrate, "depends_on", "postgres", "condition") != "service_healthy")
            yield return $"{migrateWhere}: must start once postgres is healthy";
        if (service.Migrate == MigrateMode.Host && Scalar(migrate, "depends_on", "kafka-topics", "condition") != "service_completed_successfully")
            yield return $"{migrateWhere}: starts {service.Project}'s host, which needs Kafka: must start after kafka-topics completed";
        if (Scalar(entry, "depends_on", name, "condition") != "service_completed_successfully")
            yield return $"{where}: must start after {name} completed (condition: service_completed_successfully)";
        var serviceEnv = Mapping(entry, "environment");
        var (migrates, error) = KubernetesChecks.Migrates(serviceEnv.GetValueOrDefault(MeteringSettings.MigrateVariable), serviceEnv.GetValueOrDefault("ASPNETCORE_ENVIRONMENT") ?? "Production");
        if (error is not null) yield return $"{where}: {error}";
        if (migrates) yield return $"{where}: changes the database schema itself; only {name} may: set {MeteringSettings.MigrateVariable}: \"false\"";
    }

    /// <summary>Built from the one Dockerfile (at the context's root unless named), with the service's target.</summary>
    private static bool BuiltAs(YamlMappingNode entry, MeteringService service) =>
        (Scalar(entry, "build", "dockerfile") ?? DockerfileChecks.RelativePath) == service.DockerfilePath && Scalar(entry, "build", "target") == service.ShortName;

    private static bool IsMigrate(YamlMappingNode entry) =>
        Node(entry, "command") switch
        {
            YamlSequenceNode sequence => sequence.Children.FirstOrDefault() is YamlScalarNode { Value: "migrate" },
            YamlScalarNode scalar => scalar.Value?.Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() == "migrate",
            _ => false,
        };

    private static YamlNode? Node(YamlMappingNode node, params string[] path)
    {
        YamlNode? current = node;
        foreach (var key in path)
            current = current is YamlMappingNode m && m.Children.TryGetValue(new YamlScalarNode(key), out var next) ? next : null;
        return current;
    }

    private static string? Scalar(YamlMappingNode node, params string[] path) => (Node(node, path) as YamlScalarNode)?.Value;

    private static IEnumerable<string> Sequence(YamlMappingNode node, string key) =>
        (Node(node, key) as YamlSequenceNode)?.Children.OfType<YamlScalarNode>().Select(s => s.Value!) ?? [];

    private static Dictionary<string, string> Mapping(YamlMappingNode node, string key) =>
        (Node(node, key) as YamlMappingNode)?.Children.ToDictionary(kv => ((YamlScalarNode)kv.Key).Value!, kv => (kv.Value as YamlScalarNode)?.Value ?? "")
        ?? [];
}
