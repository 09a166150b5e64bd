using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace Metering.DeploymentTests.Checks;

/// <summary>
/// The Prometheus scrape config (also mounted by docker-compose.yml): every target is a Service of the overlay on a
/// port it serves, and none is a Metering service's API port (the metrics are on the management port, and this
/// Prometheus reads them through the OpenTelemetry Collector).
/// </summary>
public static class PrometheusChecks
{
    public const string RelativePath = "infra/k8s/observability/prometheus.yml";

    public static IReadOnlyList<string> Targets(string root)
    {
        var stream = new YamlStream();
        using (var reader = new StreamReader(Path.Combine(root, RelativePath))) stream.Load(reader);
        var scrapes = ((YamlMappingNode)stream.Documents[0].RootNode).Children.TryGetValue(new YamlScalarNode("scrape_configs"), out var node)
            ? ((YamlSequenceNode)node).Children.OfType<YamlMappingNode>()
            : [];
        return scrapes
            .SelectMany(s => s.Children.TryGetValue(new YamlScalarNode("static_configs"), out var configs) ? ((YamlSequenceNode)configs).Children.OfType<YamlMappingNode>() : [])
            .SelectMany(c => c.Children.TryGetValue(new YamlScalarNode("targets"), out var targets) ? ((YamlSequenceNode)targets).Children.OfType<YamlScalarNode>() : [])
            .Select(t => t.Value!)
            .ToList();
    }

    public static IEnumerable<string> Check(string root, RenderedManifests m, IReadOnlyList<MeteringService> services)
    {
        var targets = Targets(root);
        if (targets.Count == 0) yield return $"{RelativePath}: scrapes nothing";
        foreach (var target in targets)
        {
            var (host, port) = (target.Split(':')[0], int.Parse(target.Split(':')[1], CultureInfo.InvariantCulture));
            if (m.Service(host)?.Spec.Ports?.Any(p => p.Port == port) != true)
                yield return $"{RelativePath}: target {target} is no Service port of {m.Directory}";
            if (services.FirstOrDefault(s => s.Name == host) is { } service && port == service.Port)
                yield return $"{RelativePath}: target {target} is {service.Name}'s API port; its metrics are on the management port {service.ManagementPort}";
        }
    }
}
