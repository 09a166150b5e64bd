using System.Globalization;
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
        foreach (var problem in Management(where, deployment, container, env, service)) yield return problem;

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
        foreach (var problem in Upstreams(m, where, env, service)) yield return problem;
        if (service.Kind == ServiceKind.Console && env.GetValueOrDefault(ForwardedHeadersVariable)?.Value != "true")
            yield return $"{where}: {ForwardedHeadersVariable} must be true: behind an Ingress that terminates TLS the sign-in's origin check and the Secure cookie need the browser's https";

        if (service.RequiredVariables.Contains(MeteringSettings.PostgresVariable) && service.Name == "metering-budgets")
            foreach (var problem in Silo(where, deployment.Spec.Template.Spec, container, env)) yield return problem;
        var opened = OpenedPorts(service, env);
        foreach (var port in (container.Ports ?? []).Where(p => !opened.Contains(p.ContainerPort)))
            yield return $"{where}: declares container port {port.Name} {port.ContainerPort}, which {service.Project} does not open";

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

    /// <summary>ASP.NET Core's own switch for the forwarded-headers middleware (X-Forwarded-For and X-Forwarded-Proto).</summary>
    public const string ForwardedHeadersVariable = "ASPNETCORE_FORWARDEDHEADERS_ENABLED";

    /// <summary>The console's METERING_&lt;SERVICE&gt;_URL: http://metering-&lt;service&gt;:&lt;its port&gt;, a Service of the overlay.</summary>
    private static IEnumerable<string> Upstreams(RenderedManifests m, string where, IReadOnlyDictionary<string, V1EnvVar> env, MeteringService service)
    {
        foreach (var variable in service.RequiredVariables.Where(v => MeteringService.UpstreamOf(v) is not null && env.ContainsKey(v)))
        {
            var upstream = MeteringService.All.FirstOrDefault(s => s.Name == MeteringService.UpstreamOf(variable));
            var value = env[variable].Value;
            if (upstream is null || value != $"http://{upstream.Name}:{upstream.Port}")
                yield return $"{where}: {variable} is {value ?? "not a value"}; it must reach {MeteringService.UpstreamOf(variable)} at http://{MeteringService.UpstreamOf(variable)}:{upstream?.Port.ToString(CultureInfo.InvariantCulture) ?? "?"}";
            else if (m.Service(upstream.Name)?.Spec.Ports?.Any(p => p.Port == upstream.Port) != true)
                yield return $"{where}: {variable} points at {upstream.Name}:{upstream.Port}, which no Service of the overlay serves";
        }
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

    /// <summary>
    /// The metrics on the management port, reachable in the pod network (<c>http://+:port</c>) on the container port
    /// named management, which the scrape annotations name; never on the API port.
    /// </summary>
    private static IEnumerable<string> Management(string where, V1Deployment deployment, V1Container container, IReadOnlyDictionary<string, V1EnvVar> env, MeteringService service)
    {
        var declared = container.Ports?.FirstOrDefault(p => p.Name == "management")?.ContainerPort;
        if (declared != service.ManagementPort)
            yield return $"{where}: container port management is {declared?.ToString(CultureInfo.InvariantCulture) ?? "missing"}; {service.Project}/Program.cs serves its metrics on {service.ManagementPort}";
        var url = env.GetValueOrDefault(MeteringSettings.ManagementUrlVariable)?.Value;
        if (url is null || !Regex.IsMatch(url, $@"^http://(\+|\*|0\.0\.0\.0|\[::\]):{service.ManagementPort}/?$"))
            yield return $"{where}: {MeteringSettings.ManagementUrlVariable} is {url ?? "missing"}; the metrics must be served on http://+:{service.ManagementPort}";
        var annotations = deployment.Spec.Template.Metadata?.Annotations ?? new Dictionary<string, string>();
        if (annotations.TryGetValue("prometheus.io/port", out var port) && port != service.ManagementPort.ToString(CultureInfo.InvariantCulture))
            yield return $"{where}: annotation prometheus.io/port is {port}; the metrics are on the management port {service.ManagementPort}";
        if (annotations.TryGetValue("prometheus.io/path", out var path) && path != MeteringTelemetry.MetricsPath)
            yield return $"{where}: annotation prometheus.io/path is {path}; the metrics are at {MeteringTelemetry.MetricsPath}";
    }

    /// <summary>The ports a service's process listens on: the API, the management port and, for Budgets, the silo port.</summary>
    private static HashSet<int> OpenedPorts(MeteringService service, IReadOnlyDictionary<string, V1EnvVar> env)
    {
        var ports = new HashSet<int> { service.Port, service.ManagementPort };
        if (service.Name == "metering-budgets") ports.Add(SiloPort(env));
        return ports;
    }

    private static int SiloPort(IReadOnlyDictionary<string, V1EnvVar> env) =>
        env.TryGetValue(PostgresClustering.SiloPortVariable, out var v) && int.TryParse(v.Value, out var p) ? p : PostgresClustering.DefaultSiloPort;

    /// <summary>The file names a TLS Secret mounted whole provides.</summary>
    private static readonly string[] TlsSecretKeys = ["tls.crt", "tls.key", "ca.crt"];

    /// <summary>
    /// A Budgets silo in a cluster advertises its pod IP and declares its silo port; outside Development its links use
    /// TLS, with the certificate and key read from a mounted Secret.
    /// </summary>
    private static IEnumerable<string> Silo(string where, V1PodSpec pod, V1Container container, IReadOnlyDictionary<string, V1EnvVar> env)
    {
        foreach (var variable in ConfigurationVariables.ClusteredSilo.Where(v => !env.ContainsKey(v)))
            yield return $"{where}: an Orleans silo in a cluster needs {variable}";
        if (env.TryGetValue(PostgresClustering.AdvertisedIpVariable, out var ip) && ip.ValueFrom?.FieldRef?.FieldPath != "status.podIP")
            yield return $"{where}: {PostgresClustering.AdvertisedIpVariable} must be the pod IP (fieldRef status.podIP)";
        var siloPort = SiloPort(env);
        if (container.Ports?.FirstOrDefault(c => c.Name == "silo")?.ContainerPort != siloPort)
            yield return $"{where}: {PostgresClustering.SiloPortVariable} is {siloPort}, which the container does not declare as port silo";

        var environment = env.GetValueOrDefault("ASPNETCORE_ENVIRONMENT")?.Value ?? "Production";
        var (tls, error) = SiloTlsOn(env.GetValueOrDefault(SiloTls.EnabledVariable)?.Value, environment);
        if (error is not null) { yield return $"{where}: {error}"; yield break; }
        if (!tls && !IsDevelopment(environment))
            yield return $"{where}: silo-to-silo TLS is off ({SiloTls.EnabledVariable}=false) with ASPNETCORE_ENVIRONMENT={environment}; outside Development the silos must use TLS";
        if (!tls) yield break;
        foreach (var variable in new[] { SiloTls.CertificateVariable, SiloTls.KeyVariable })
        {
            if (env.GetValueOrDefault(variable)?.Value is not { Length: > 0 } path)
            {
                yield return $"{where}: silo-to-silo TLS is on (ASPNETCORE_ENVIRONMENT={environment}) but {variable} is not set";
                continue;
            }
            var mount = container.VolumeMounts?.FirstOrDefault(v => path.StartsWith(v.MountPath.TrimEnd('/') + "/", StringComparison.Ordinal));
            var secret = mount is null ? null : pod.Volumes?.FirstOrDefault(v => v.Name == mount.Name)?.Secret;
            if (mount is null || secret is null)
            {
                yield return $"{where}: {variable} is {path}, which is in no volume mounted from a Secret";
                continue;
            }
            var file = path[(mount.MountPath.TrimEnd('/').Length + 1)..];
            var files = secret.Items is { Count: > 0 } items ? items.Select(i => i.Path) : TlsSecretKeys;
            if (!files.Contains(file))
                yield return $"{where}: {variable} names {file}, which Secret {secret.SecretName} does not provide in {mount.MountPath}";
        }
    }

    /// <summary>What Budgets decides at start, by its own code: silo TLS on or off.</summary>
    public static (bool On, string? Error) SiloTlsOn(string? value, string environment)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { [SiloTls.EnabledVariable] = value })
            .Build();
        try
        {
            return (SiloTls.Enabled(configuration, IsDevelopment(environment)), null);
        }
        catch (InvalidOperationException e)
        {
            return (false, e.Message);
        }
    }

    private static bool IsDevelopment(string environment) => string.Equals(environment, "Development", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// A NetworkPolicy keeps the Budgets pods' silo port to the Budgets pods: every rule that opens it admits only pods
    /// that carry the Deployment's own selector labels, in the same namespace; the API port stays open.
    /// </summary>
    public static IEnumerable<string> SiloNetwork(RenderedManifests m)
    {
        var budgets = m.Deployment("metering-budgets");
        var container = budgets?.Spec.Template.Spec.Containers.FirstOrDefault(c => c.Name == "budgets");
        if (budgets is null || container is null) yield break;
        var where = $"{m.Directory}: Deployment metering-budgets";
        var silo = container.Ports?.FirstOrDefault(p => p.Name == "silo");
        if (silo is null) { yield return $"{where}: no container port silo"; yield break; }
        var labels = budgets.Spec.Template.Metadata?.Labels ?? new Dictionary<string, string>();
        var identity = budgets.Spec.Selector.MatchLabels;
        var policies = m.OfType<V1NetworkPolicy>()
            .Where(p => Matches(p.Spec.PodSelector, labels) && (p.Spec.PolicyTypes is not { Count: > 0 } types || types.Contains("Ingress")))
            .ToList();
        if (policies.Count == 0)
        {
            yield return $"{where}: no NetworkPolicy selects its pods; any pod in the cluster reaches the Orleans silo port {silo.ContainerPort}";
            yield break;
        }
        var rules = policies.SelectMany(p => p.Spec.Ingress ?? []).ToList();
        foreach (var rule in rules.Where(r => Opens(r, silo)))
            if (rule.FromProperty is not { Count: > 0 } peers ||
                peers.Any(peer => peer.IpBlock is not null || peer.NamespaceSelector is not null || peer.PodSelector?.MatchExpressions is { Count: > 0 } ||
                                  !identity.All(kv => peer.PodSelector?.MatchLabels?.TryGetValue(kv.Key, out var value) == true && value == kv.Value)))
                yield return $"{where}: a NetworkPolicy rule opens the silo port {silo.ContainerPort} to pods other than Budgets'";
        if (!rules.Any(r => Opens(r, silo)))
            yield return $"{where}: no NetworkPolicy rule lets the silos reach each other on port silo {silo.ContainerPort}";
        foreach (var port in (container.Ports ?? []).Where(p => p.Name is "http" or "management" && !rules.Any(r => Opens(r, p))))
            yield return $"{where}: the NetworkPolicy closes port {port.Name} {port.ContainerPort}";
    }

    private static bool Matches(V1LabelSelector? selector, IDictionary<string, string> labels) =>
        selector is not null && (selector.MatchLabels ?? new Dictionary<string, string>()).All(kv => labels.TryGetValue(kv.Key, out var v) && v == kv.Value);

    private static bool Opens(V1NetworkPolicyIngressRule rule, V1ContainerPort port) =>
        rule.Ports is not { Count: > 0 } ports || ports.Any(p => p.Port is null || p.Port.Value == port.Name ||
            (int.TryParse(p.Port.Value, out var number) && number <= port.ContainerPort && port.ContainerPort <= (p.EndPort ?? number)));

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
