using k8s.Models;

namespace Metering.DeploymentTests.Checks;

/// <summary>
/// What the typed model cannot say about a rendered overlay: required fields, and references between objects
/// (selectors, named ports, volumes, ConfigMaps) that would only fail once applied to a cluster.
/// </summary>
public static class WorkloadStructure
{
    public static IEnumerable<string> Check(RenderedManifests m)
    {
        foreach (var o in m.Objects.Where(o => string.IsNullOrEmpty(o.ApiVersion) || string.IsNullOrEmpty(o.Kind)))
            yield return $"{m.Directory}: an object without apiVersion or kind";
        foreach (var (owner, spec, labels) in m.PodTemplates())
        {
            var where = $"{m.Directory}: {owner}";
            if (spec.Containers is not { Count: > 0 }) { yield return $"{where}: no containers"; continue; }
            var volumes = (spec.Volumes ?? []).Select(v => v.Name).ToHashSet();
            foreach (var c in spec.Containers)
            {
                if (string.IsNullOrEmpty(c.Name) || string.IsNullOrEmpty(c.Image)) yield return $"{where}: a container without name or image";
                if (c.Image?.EndsWith(":latest", StringComparison.Ordinal) == true) yield return $"{where}: {c.Image} is not a fixed version";
                var ports = (c.Ports ?? []).Select(p => p.Name).Where(n => n is not null).ToHashSet();
                foreach (var probe in new[] { c.ReadinessProbe, c.LivenessProbe, c.StartupProbe }.Where(p => p is not null))
                {
                    var port = probe!.HttpGet?.Port ?? probe.TcpSocket?.Port;
                    if (port is not null && !int.TryParse(port.Value, out _) && !ports.Contains(port.Value))
                        yield return $"{where}: probe port {port.Value} is not a port of container {c.Name}";
                }
                foreach (var mount in c.VolumeMounts ?? [])
                    if (!volumes.Contains(mount.Name) && spec.Containers.Count > 0 && !IsClaimTemplate(m, owner, mount.Name))
                        yield return $"{where}: volume mount {mount.Name} has no volume";
            }
            foreach (var v in spec.Volumes ?? [])
                if (v.ConfigMap is { } cm && m.ConfigMap(cm.Name) is null)
                    yield return $"{where}: volume {v.Name} refers to ConfigMap {cm.Name}, which the overlay does not define";
        }
        foreach (var d in m.OfType<V1Deployment>())
            if (!Selects(d.Spec.Selector.MatchLabels, d.Spec.Template.Metadata?.Labels))
                yield return $"{m.Directory}: Deployment/{d.Metadata.Name}: selector does not match its pod labels";
        foreach (var s in m.OfType<V1StatefulSet>())
            if (!Selects(s.Spec.Selector.MatchLabels, s.Spec.Template.Metadata?.Labels))
                yield return $"{m.Directory}: StatefulSet/{s.Metadata.Name}: selector does not match its pod labels";
        foreach (var service in m.OfType<V1Service>())
        {
            var pods = m.PodTemplates().Where(p => Selects(service.Spec.Selector, p.Labels)).ToList();
            if (pods.Count == 0) { yield return $"{m.Directory}: Service/{service.Metadata.Name} selects no pods"; continue; }
            foreach (var port in service.Spec.Ports ?? [])
                if (port.TargetPort is { } target && !int.TryParse(target.Value, out _) &&
                    !pods.Any(p => p.Spec.Containers.Any(c => c.Ports?.Any(cp => cp.Name == target.Value) == true)))
                    yield return $"{m.Directory}: Service/{service.Metadata.Name}: targetPort {target.Value} is no container port";
        }
    }

    private static bool Selects(IDictionary<string, string>? selector, IDictionary<string, string>? labels) =>
        selector is { Count: > 0 } && labels is not null && selector.All(kv => labels.TryGetValue(kv.Key, out var v) && v == kv.Value);

    private static bool IsClaimTemplate(RenderedManifests m, string owner, string name) =>
        m.OfType<V1StatefulSet>().Any(s => owner == $"StatefulSet/{s.Metadata.Name}" && s.Spec.VolumeClaimTemplates?.Any(t => t.Metadata.Name == name) == true);
}
