using k8s.Models;
using Metering.Budgets.Clustering;
using Metering.ServiceDefaults;
using Microsoft.Extensions.Configuration;

namespace Metering.DeploymentTests.Checks;

/// <summary>What a rendered overlay must say to agree with the services' code; each problem is one readable line.</summary>
public static class KubernetesChecks
{
    /// <summary>Values that are secrets: they must come from a Secret, never from a literal or a ConfigMap.</summary>
    public static readonly IReadOnlySet<string> SecretVariables = new HashSet<string>
    {
        MeteringSettings.PostgresVariable, MeteringSettings.AdminTokenVariable, MeteringSettings.EmitterTokenVariable, MeteringSettings.ViewerTokensVariable,
    };

    public static IEnumerable<string> Services(RenderedManifests m, IReadOnlyList<MeteringService> services)
    {
        foreach (var service in services)
            foreach (var problem in Service(m, service)) yield return $"{m.Directory}: {problem}";
    }

    private static IEnumerable<string> Service(RenderedManifests m, MeteringService service)
    {
        var deployment = m.Deployment(service.Name);
        if (deployment is null) { yield return $"no Deployment {service.Name}"; yield break; }
        var container = deployment.Spec.Template.Spec.Containers.FirstOrDefault(c => c.Name == service.ShortName);
        if (container is null) { yield return $"Deployment {service.Name} has no container {service.ShortName}"; yield break; }
        var where = $"Deployment {service.Name}";

        if (ImageName(container.Image) is var image && image != service.Image && !image.EndsWith("/" + service.Image, StringComparison.Ordinal))
            yield return $"{where}: image {container.Image} is not {service.Image}";

        var http = container.Ports?.FirstOrDefault(p => p.Name == "http");
        if (http?.ContainerPort != service.Port)
            yield return $"{where}: container port http is {http?.ContainerPort.ToString() ?? "missing"}; {service.Project}/Program.cs listens on {service.Port}";

        var env = m.Environment(container);
        if (!env.TryGetValue("ASPNETCORE_URLS", out var urls) || urls.Value?.EndsWith($":{service.Port}", StringComparison.Ordinal) != true)
            yield return $"{where}: ASPNETCORE_URLS is {urls?.Value ?? "missing"}; the service's port is {service.Port}";

        foreach (var (probe, name, path) in new[] { (container.ReadinessProbe, "readiness", MeteringDefaults.ReadyPath), (container.LivenessProbe, "liveness", MeteringDefaults.LivePath) })
        {
            if (probe?.HttpGet is not { } get) { yield return $"{where}: no HTTP {name} probe"; continue; }
            if (get.Path != path) yield return $"{where}: {name} probe path {get.Path}; the service serves {path}";
            if (ResolvePort(container, get.Port) != service.Port) yield return $"{where}: {name} probe port {get.Port.Value} is not {service.Port}";
        }

        if (container.Resources?.Requests is not { Count: > 0 } || container.Resources.Limits?.ContainsKey("memory") != true)
            yield return $"{where}: resources need requests and a memory limit";

        foreach (var problem in Variables(m, where, env)) yield return problem;
        foreach (var required in service.RequiredVariables.Where(r => !env.ContainsKey(r)))
            yield return $"{where}: does not set {required}, which {service.Project} requires";

        if (service.RequiredVariables.Contains(MeteringSettings.PostgresVariable) && service.Name == "metering-budgets")
            foreach (var problem in Silo(where, container, env)) yield return problem;

        var k8sService = m.Service(service.Name);
        var servicePort = k8sService?.Spec.Ports?.FirstOrDefault(p => p.Name == "http");
        if (servicePort is null) yield return $"no Service {service.Name} with port http";
        else
        {
            if (servicePort.Port != service.Port) yield return $"Service {service.Name}: port {servicePort.Port}; the service's port is {service.Port}";
            if (ResolvePort(container, servicePort.TargetPort ?? servicePort.Port) != service.Port)
                yield return $"Service {service.Name}: targetPort {servicePort.TargetPort?.Value} does not reach port {service.Port}";
        }

        var security = deployment.Spec.Template.Spec.SecurityContext;
        if (security?.RunAsNonRoot != true) yield return $"{where}: pods must set runAsNonRoot";
        if (container.SecurityContext?.AllowPrivilegeEscalation != false) yield return $"{where}: allowPrivilegeEscalation must be false";
    }

    /// <summary>Every variable is one a service reads; secrets come from a Secret that has the key.</summary>
    private static IEnumerable<string> Variables(RenderedManifests m, string where, IReadOnlyDictionary<string, V1EnvVar> env)
    {
        foreach (var (name, variable) in env)
        {
            if (!ConfigurationVariables.IsRead(name)) yield return $"{where}: sets {name}, which no service reads";
            if (SecretVariables.Contains(name) && variable.ValueFrom?.SecretKeyRef is null)
                yield return $"{where}: {name} is a secret and must come from a Secret (secretKeyRef)";
        }
        foreach (var (name, variable) in env)
            if (variable.ValueFrom?.SecretKeyRef is { } key && m.Secret(key.Name) is { } secret && key.Optional != true &&
                !(secret.StringData?.ContainsKey(key.Key) == true || secret.Data?.ContainsKey(key.Key) == true))
                yield return $"{where}: {name} refers to key {key.Key}, which Secret {key.Name} does not have";
    }

    /// <summary>The Job that runs each service with a schema once with the argument <c>migrate</c>.</summary>
    public const string MigrateJob = "metering-migrate";

    /// <summary>
    /// The schemas are changed by the Job <see cref="MigrateJob"/> only: a container per service with a schema, running
    /// the Deployment's image with the argument <c>migrate</c> and what that reads; no Deployment migrates by itself
    /// (<see cref="MeteringSettings.Migrate"/>: METERING_MIGRATE, else only in Development).
    /// </summary>
    public static IEnumerable<string> Migration(RenderedManifests m, IReadOnlyList<MeteringService> services)
    {
        var migrating = services.Where(s => s.Migrate != MigrateMode.None).ToList();
        if (migrating.Count == 0) yield break;
        var job = m.OfType<V1Job>().SingleOrDefault(j => j.Metadata.Name == MigrateJob);
        if (job is null)
            yield return $"{m.Directory}: no Job {MigrateJob}, which runs {string.Join(" and ", migrating.Select(s => s.Project))} with the argument migrate";
        else if (job.Spec.Template.Spec.SecurityContext?.RunAsNonRoot != true)
            yield return $"{m.Directory}: Job {MigrateJob}: pods must set runAsNonRoot";
        foreach (var service in migrating)
        {
            var deployed = m.Deployment(service.Name)?.Spec.Template.Spec.Containers.FirstOrDefault(c => c.Name == service.ShortName);
            if (job is not null)
                foreach (var problem in MigrateContainer(m, job, service, deployed)) yield return problem;
            if (deployed is null) continue;
            var env = m.Environment(deployed);
            var value = env.GetValueOrDefault(MeteringSettings.MigrateVariable)?.Value;
            var environment = env.GetValueOrDefault("ASPNETCORE_ENVIRONMENT")?.Value ?? "Production";
            var (migrates, error) = Migrates(value, environment);
            if (error is not null) yield return $"{m.Directory}: Deployment {service.Name}: {error}";
            if (migrates)
                yield return $"{m.Directory}: Deployment {service.Name} changes the database schema itself ({MeteringSettings.MigrateVariable}={value ?? "unset"}, " +
                             $"ASPNETCORE_ENVIRONMENT={environment}); only the Job {MigrateJob} may: set {MeteringSettings.MigrateVariable}=false";
        }
    }

    /// <summary>What the service decides at start, by its own code.</summary>
    public static (bool Migrates, string? Error) Migrates(string? value, string environment)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { [MeteringSettings.MigrateVariable] = value })
            .Build();
        try
        {
            return (MeteringSettings.Migrate(configuration, string.Equals(environment, "Development", StringComparison.OrdinalIgnoreCase)), null);
        }
        catch (InvalidOperationException e)
        {
            return (false, e.Message);
        }
    }

    private static IEnumerable<string> MigrateContainer(RenderedManifests m, V1Job job, MeteringService service, V1Container? deployed)
    {
        var where = $"{m.Directory}: Job {MigrateJob}";
        var pod = job.Spec.Template.Spec;
        var container = (pod.InitContainers ?? []).Concat(pod.Containers ?? []).FirstOrDefault(c => c.Name == service.ShortName);
        if (container is null) { yield return $"{where}: no container {service.ShortName} running {service.Image} migrate"; yield break; }
        where = $"{where}: container {service.ShortName}";
        if (ImageName(container.Image) is var image && image != service.Image && !image.EndsWith("/" + service.Image, StringComparison.Ordinal))
            yield return $"{where}: image {container.Image} is not {service.Image}";
        else if (deployed is not null && container.Image != deployed.Image)
            yield return $"{where}: image {container.Image}, but Deployment {service.Name} runs {deployed.Image}; migrate with the release that is deployed";
        if (container.Command is { Count: > 0 })
            yield return $"{where}: command replaces the image's entrypoint (dotnet {service.Project}.dll); give only args [\"migrate\"]";
        if (container.Args is not ["migrate"])
            yield return $"{where}: args are [{string.Join(", ", container.Args ?? [])}]; {service.Project} migrates with the argument migrate";
        var env = m.Environment(container);
        foreach (var problem in Variables(m, where, env)) yield return problem;
        foreach (var required in service.MigrateVariables.Where(r => !env.ContainsKey(r)))
            yield return $"{where}: does not set {required}, which {service.Project} migrate needs";
    }

    /// <summary>A Budgets silo in a cluster advertises its pod IP and the ports its container declares.</summary>
    private static IEnumerable<string> Silo(string where, V1Container container, IReadOnlyDictionary<string, V1EnvVar> env)
    {
        foreach (var variable in ConfigurationVariables.ClusteredSilo.Where(v => !env.ContainsKey(v)))
            yield return $"{where}: an Orleans silo in a cluster needs {variable}";
        if (env.TryGetValue(PostgresClustering.AdvertisedIpVariable, out var ip) && ip.ValueFrom?.FieldRef?.FieldPath != "status.podIP")
            yield return $"{where}: {PostgresClustering.AdvertisedIpVariable} must be the pod IP (fieldRef status.podIP)";
        foreach (var (variable, fallback) in new[] { (PostgresClustering.SiloPortVariable, PostgresClustering.DefaultSiloPort), (PostgresClustering.GatewayPortVariable, PostgresClustering.DefaultGatewayPort) })
        {
            var port = env.TryGetValue(variable, out var v) && int.TryParse(v.Value, out var p) ? p : fallback;
            if (container.Ports?.Any(c => c.ContainerPort == port) != true)
                yield return $"{where}: {variable} is {port}, which the container does not declare";
        }
    }

    /// <summary>The topics Job's list, PostgreSQL and Kafka (KRaft) when the overlay includes the platform.</summary>
    public static IEnumerable<string> Platform(RenderedManifests m)
    {
        var topics = m.GeneratedConfigMap("metering-topics");
        if (topics?.Data?.TryGetValue("topics.txt", out var list) != true) { yield return $"{m.Directory}: no ConfigMap metering-topics with topics.txt"; yield break; }
        foreach (var problem in TopicList.Check(TopicList.Parse(list!), $"{m.Directory}: ConfigMap metering-topics")) yield return problem;

        var job = m.OfType<V1Job>().SingleOrDefault(j => j.Metadata.Name == "metering-topics");
        if (job?.Spec.Template.Spec.Volumes?.Any(v => v.ConfigMap?.Name == topics!.Metadata.Name) != true)
            yield return $"{m.Directory}: Job metering-topics must mount ConfigMap metering-topics";

        var kafka = m.OfType<V1StatefulSet>().SingleOrDefault(s => s.Metadata.Name == "kafka");
        if (kafka is null) { yield return $"{m.Directory}: no StatefulSet kafka"; }
        else
        {
            var container = kafka.Spec.Template.Spec.Containers[0];
            if (ImageName(container.Image) != "apache/kafka") yield return $"{m.Directory}: Kafka must be the official apache/kafka image";
            var env = m.Environment(container);
            if (env.GetValueOrDefault("KAFKA_PROCESS_ROLES")?.Value?.Contains("controller") != true) yield return $"{m.Directory}: Kafka must run in KRaft mode (KAFKA_PROCESS_ROLES with controller)";
            var voters = env.GetValueOrDefault("KAFKA_CONTROLLER_QUORUM_VOTERS")?.Value?.Split(',').Length ?? 0;
            if (voters != (kafka.Spec.Replicas ?? 1)) yield return $"{m.Directory}: Kafka has {kafka.Spec.Replicas} replicas but {voters} quorum voters";
            if (kafka.Spec.VolumeClaimTemplates is not { Count: > 0 }) yield return $"{m.Directory}: Kafka needs a volume";
        }
        var postgres = m.OfType<V1StatefulSet>().SingleOrDefault(s => s.Metadata.Name == "postgres");
        if (postgres?.Spec.VolumeClaimTemplates is not { Count: > 0 }) yield return $"{m.Directory}: no PostgreSQL StatefulSet with a volume";
    }

    /// <summary>Where the shared configuration points must exist: Kafka's and the collector's Services and ports.</summary>
    public static IEnumerable<string> Endpoints(RenderedManifests m)
    {
        var config = m.GeneratedConfigMap("metering-config");
        if (config?.Data is null) { yield return $"{m.Directory}: no ConfigMap metering-config"; yield break; }
        foreach (var variable in new[] { MeteringSettings.KafkaVariable, MeteringTelemetry.OtlpEndpointVariable })
        {
            if (!config.Data.TryGetValue(variable, out var value)) { yield return $"{m.Directory}: metering-config has no {variable}"; continue; }
            foreach (var address in value.Split(','))
            {
                var hostPort = address.Contains("://") ? new Uri(address).Authority : address;
                var (host, port) = (hostPort.Split(':')[0], int.Parse(hostPort.Split(':')[1], System.Globalization.CultureInfo.InvariantCulture));
                if (m.Service(host)?.Spec.Ports?.Any(p => p.Port == port) != true)
                    yield return $"{m.Directory}: {variable} points at {host}:{port}, which no Service of the overlay serves";
            }
        }
    }

    public static string ImageName(string image)
    {
        var lastSlash = image.LastIndexOf('/');
        var colon = image.IndexOf(':', lastSlash + 1);
        return colon < 0 ? image : image[..colon];
    }

    private static int? ResolvePort(V1Container container, IntOrString port) =>
        int.TryParse(port.Value, out var number) ? number : container.Ports?.FirstOrDefault(p => p.Name == port.Value)?.ContainerPort;
}
