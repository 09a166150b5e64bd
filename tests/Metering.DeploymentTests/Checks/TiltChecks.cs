using k8s.Models;

namespace Metering.DeploymentTests.Checks;

/// <summary>One metering_service(...) call of the Tiltfile.</summary>
public sealed record TiltService(string Name, string Project, int Port, int ManagementPort, IReadOnlyList<string> ResourceDeps, bool WebApp);

/// <summary>The Tiltfile: a resource per service on the right port, built from its target of the Dockerfile, in the right order.</summary>
public static class TiltChecks
{
    public const string Tiltfile = "Tiltfile";
    public const string Helpers = "tilt/metering.tiltfile";

    public static IReadOnlyList<TiltService> Services(string text) =>
        Regex.Matches(text, @"^metering_service\('(?<name>[^']+)',\s*'(?<project>[^']+)',\s*(?<port>\d+),\s*(?<management>\d+),\s*\[(?<deps>[^\]]*)\](?<options>[^)\n]*)\)", RegexOptions.Multiline)
            .Select(m => new TiltService(m.Groups["name"].Value, m.Groups["project"].Value, int.Parse(m.Groups["port"].Value, System.Globalization.CultureInfo.InvariantCulture),
                int.Parse(m.Groups["management"].Value, System.Globalization.CultureInfo.InvariantCulture),
                Regex.Matches(m.Groups["deps"].Value, "'([^']+)'").Select(d => d.Groups[1].Value).ToList(),
                Regex.IsMatch(m.Groups["options"].Value, @"\bweb_app=True\b")))
            .ToList();

    /// <summary>
    /// The console's image (web_app=True) takes the app built on the host by console_app(), from the folder the
    /// Dockerfile's host build copies, and its resource waits for that build.
    /// </summary>
    private static IEnumerable<string> ConsoleApp(string root, string text, string helpers, TiltService tilt)
    {
        if (!tilt.WebApp) yield return $"{Tiltfile}: {tilt.Name} serves the web console: metering_service(..., web_app=True)";
        if (!Regex.IsMatch(text, @"^console_app\(\)", RegexOptions.Multiline)) yield return $"{Tiltfile}: console_app() is not called, so nothing builds the web console";
        if (!tilt.ResourceDeps.Contains("metering-console-app")) yield return $"{Tiltfile}: {tilt.Name} must wait for metering-console-app";
        var folder = Regex.Match(helpers, @"^CONSOLE_APP_DIR = '(?<dir>[^']+)'", RegexOptions.Multiline).Groups["dir"].Value;
        var dockerfile = Dockerfile.Parse(File.ReadAllText(Path.Combine(root, DockerfileChecks.RelativePath)));
        var hostCopies = dockerfile.Stages.Where(s => s.From == "scratch").SelectMany(s => s.Instructions)
            .Where(i => i.Keyword == "COPY" && i.Flag("from") is null).Select(i => i.Words[0].TrimEnd('/'));
        if (folder.Length == 0 || !hostCopies.Contains(folder))
            yield return $"{Helpers}: CONSOLE_APP_DIR '{folder}' is not the folder the Dockerfile's host build copies the web console from";
    }

    public static IEnumerable<string> Check(string root, IReadOnlyList<MeteringService> services)
    {
        var text = File.ReadAllText(Path.Combine(root, Tiltfile));
        var helpers = File.ReadAllText(Path.Combine(root, Helpers));
        if (text.Contains("fail(", StringComparison.Ordinal)) yield return $"{Tiltfile}: still refuses to run";

        var overlay = Regex.Match(text, @"k8s_yaml\(kustomize\('(?<dir>[^']+)'\)\)").Groups["dir"].Value;
        if (overlay != "infra/k8s/overlays/dev") { yield return $"{Tiltfile}: must apply kustomize('infra/k8s/overlays/dev'), not '{overlay}'"; yield break; }
        var rendered = RenderedManifests.Load(Path.Combine(root, overlay));
        var workloads = rendered.PodTemplates().Select(p => p.Owner.Split('/')[1]).ToHashSet();

        var tiltServices = Services(text);
        foreach (var service in services)
        {
            var tilt = tiltServices.FirstOrDefault(t => t.Name == service.Name);
            if (tilt is null) { yield return $"{Tiltfile}: no metering_service('{service.Name}', ...)"; continue; }
            if (tilt.Project != service.Project) yield return $"{Tiltfile}: {service.Name} builds {tilt.Project}, not {service.Project}";
            if (tilt.Port != service.Port) yield return $"{Tiltfile}: {service.Name} forwards port {tilt.Port}; {service.Project}/Program.cs listens on {service.Port}";
            if (tilt.ManagementPort != service.ManagementPort)
                yield return $"{Tiltfile}: {service.Name} forwards management port {tilt.ManagementPort}; {service.Project}/Program.cs serves its metrics on {service.ManagementPort}";
            if (service.RequiredVariables.Contains(Metering.ServiceDefaults.MeteringSettings.KafkaVariable) && !tilt.ResourceDeps.Contains("metering-topics"))
                yield return $"{Tiltfile}: {service.Name} must wait for metering-topics";
            if (service.Kind == ServiceKind.Console)
                foreach (var problem in ConsoleApp(root, text, helpers, tilt)) yield return problem;
            if (service.RequiredVariables.Contains(Metering.ServiceDefaults.MeteringSettings.PostgresVariable) && !tilt.ResourceDeps.Contains("postgres"))
                yield return $"{Tiltfile}: {service.Name} uses PostgreSQL and must wait for postgres";
        }
        // The migration Job after PostgreSQL, the topics (Billing's migrate starts its host, which needs Kafka) and
        // the host builds of the images it runs; the services with a schema after it.
        var migrating = services.Where(s => s.Migrate != MigrateMode.None).ToList();
        if (migrating.Count > 0)
        {
            var job = Regex.Match(text, @"k8s_resource\(\s*'" + KubernetesChecks.MigrateJob + @"',\s*resource_deps=\[(?<deps>[^\]]*)\]");
            var jobDeps = Regex.Matches(job.Groups["deps"].Value, "'([^']+)'").Select(d => d.Groups[1].Value).ToList();
            if (!job.Success) yield return $"{Tiltfile}: no k8s_resource('{KubernetesChecks.MigrateJob}', resource_deps=[...])";
            else
            {
                if (!jobDeps.Contains("postgres")) yield return $"{Tiltfile}: {KubernetesChecks.MigrateJob} must wait for postgres";
                if (migrating.Any(s => s.Migrate == MigrateMode.Host) && !jobDeps.Contains("metering-topics") && !jobDeps.Contains("kafka"))
                    yield return $"{Tiltfile}: {KubernetesChecks.MigrateJob} must wait for Kafka (metering-topics)";
                foreach (var service in migrating.Where(s => !jobDeps.Contains(s.Name + "-publish")))
                    yield return $"{Tiltfile}: {KubernetesChecks.MigrateJob} runs {service.Image} and must wait for {service.Name}-publish";
            }
            foreach (var service in migrating)
                if (tiltServices.FirstOrDefault(t => t.Name == service.Name) is { } tilt && !tilt.ResourceDeps.Contains(KubernetesChecks.MigrateJob))
                    yield return $"{Tiltfile}: {service.Name} must wait for {KubernetesChecks.MigrateJob}";
        }
        foreach (var extra in tiltServices.Where(t => services.All(s => s.Name != t.Name)))
            yield return $"{Tiltfile}: metering_service('{extra.Name}') is no service of services/";

        // Tilt refuses a k8s_resource that names no workload of the applied manifests.
        foreach (Match m in Regex.Matches(text, @"k8s_resource\(\s*'(?<name>[^']+)'"))
            if (!workloads.Contains(m.Groups["name"].Value)) yield return $"{Tiltfile}: k8s_resource('{m.Groups["name"].Value}') is no workload of {overlay}";
        if (!Regex.IsMatch(text, @"k8s_resource\('metering-topics',\s*resource_deps=\['kafka'\]"))
            yield return $"{Tiltfile}: metering-topics must wait for kafka";

        // The helper builds each image the way the manifests name it, from the service's target of the Dockerfile, on its port.
        foreach (var (needle, what) in new[]
        {
            ("dockerfile='Dockerfile'", "the one Dockerfile"),
            ("target=name[len('metering-'):]", "the Dockerfile's target named after the service"),
            ("'metering/' + name[len('metering-'):]", "the image metering/<short name> the manifests use"),
            ("port_forwards=['{0}:{0}'.format(port), '{0}:{0}'.format(management_port)]", "port-forwards of the service's own port and its management port"),
            ("syncs = [sync(publish_dir, '/app')]", "a live update into /app"),
            ("live_update=syncs", "a live update into /app"),
            ("'APP_SOURCE': 'host'", "the Dockerfile's host-build stage"),
        })
            if (!helpers.Contains(needle, StringComparison.Ordinal)) yield return $"{Helpers}: metering_service must use {what} ({needle})";
        foreach (var service in services)
            if (rendered.Deployment(service.Name)?.Spec.Template.Spec.Containers.Any(c => c.Image == service.Image) != true)
                yield return $"{overlay}: Deployment {service.Name} must use image {service.Image} for Tilt to replace it";
    }
}
