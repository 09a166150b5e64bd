namespace Metering.DeploymentTests.Checks;

/// <summary>Every check of the deployment files under <paramref name="root"/> against the services' code in this repository.</summary>
public static class DeploymentConsistency
{
    public static readonly string[] Overlays = ["infra/k8s/base", "infra/k8s/overlays/dev", "infra/k8s/overlays/prod"];

    public static IReadOnlyList<string> Check(string root)
    {
        var services = MeteringService.All;
        var problems = new List<string>();
        foreach (var overlay in Overlays)
        {
            var rendered = RenderedManifests.Load(Path.Combine(root, overlay));
            problems.AddRange(WorkloadStructure.Check(rendered));
            problems.AddRange(KubernetesChecks.Services(rendered, services));
            problems.AddRange(KubernetesChecks.Migration(rendered, services));
            problems.AddRange(KubernetesChecks.SiloNetwork(rendered));
            if (overlay != "infra/k8s/base")
            {
                problems.AddRange(KubernetesChecks.Platform(rendered));
                problems.AddRange(KubernetesChecks.Endpoints(rendered));
                // The observability stack (Prometheus with its scrape config) comes with the dev overlay.
                if (overlay == "infra/k8s/overlays/dev") problems.AddRange(PrometheusChecks.Check(root, rendered, services));
            }
        }
        problems.AddRange(TopicList.Check(TopicList.Parse(File.ReadAllText(Path.Combine(root, TopicList.RelativePath))), TopicList.RelativePath));
        problems.AddRange(DockerfileChecks.Single(root, services));
        problems.AddRange(services.SelectMany(s => DockerfileChecks.Check(root, s)));
        problems.AddRange(ComposeChecks.Check(root, services));
        problems.AddRange(TiltChecks.Check(root, services));
        problems.AddRange(DashboardChecks.Check(root));
        return problems.Select(p => p.Replace(root + Path.DirectorySeparatorChar, "")).ToList();
    }
}
