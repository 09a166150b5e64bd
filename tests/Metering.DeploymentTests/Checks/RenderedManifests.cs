using k8s;
using k8s.Models;

namespace Metering.DeploymentTests.Checks;

/// <summary>
/// The objects one kustomization renders, each deserialized strictly into the Kubernetes client's typed model
/// (KubernetesClient's types are generated from the Kubernetes OpenAPI schema): an unknown kind, an unknown or
/// misspelt field, or a value of the wrong type fails here.
/// </summary>
public sealed class RenderedManifests(string directory, IReadOnlyList<IKubernetesObject> objects)
{
    public string Directory { get; } = directory;
    public IReadOnlyList<IKubernetesObject> Objects { get; } = objects;

    public static RenderedManifests Load(string directory) =>
        new(directory, KubernetesYaml.LoadAllFromString(Kustomize.Render(directory), typeMap: null, strict: true)
            .Cast<IKubernetesObject>().ToList());

    public IEnumerable<T> OfType<T>() => Objects.OfType<T>();

    public V1Deployment? Deployment(string name) => OfType<V1Deployment>().SingleOrDefault(d => d.Metadata.Name == name);

    public V1Service? Service(string name) => OfType<V1Service>().SingleOrDefault(s => s.Metadata.Name == name);

    public V1ConfigMap? ConfigMap(string name) => OfType<V1ConfigMap>().SingleOrDefault(c => c.Metadata.Name == name);

    /// <summary>Kustomize appends a content hash to generated names; references are rewritten to match.</summary>
    public V1ConfigMap? GeneratedConfigMap(string name) =>
        ConfigMap(name) ?? OfType<V1ConfigMap>().SingleOrDefault(c => c.Metadata.Name.StartsWith(name + "-", StringComparison.Ordinal) && c.Metadata.Name.Length == name.Length + 11);

    public V1Secret? Secret(string name) => OfType<V1Secret>().SingleOrDefault(s => s.Metadata.Name == name);

    /// <summary>Every pod template with the kind and name of its owner.</summary>
    public IEnumerable<(string Owner, V1PodSpec Spec, IDictionary<string, string>? Labels)> PodTemplates()
    {
        foreach (var d in OfType<V1Deployment>()) yield return ($"Deployment/{d.Metadata.Name}", d.Spec.Template.Spec, d.Spec.Template.Metadata?.Labels);
        foreach (var s in OfType<V1StatefulSet>()) yield return ($"StatefulSet/{s.Metadata.Name}", s.Spec.Template.Spec, s.Spec.Template.Metadata?.Labels);
        foreach (var j in OfType<V1Job>()) yield return ($"Job/{j.Metadata.Name}", j.Spec.Template.Spec, j.Spec.Template.Metadata?.Labels);
    }

    /// <summary>The environment a container gets: its env entries and every key of the ConfigMaps and Secrets it takes whole.</summary>
    public IReadOnlyDictionary<string, V1EnvVar> Environment(V1Container container)
    {
        var env = new Dictionary<string, V1EnvVar>();
        foreach (var source in container.EnvFrom ?? [])
        {
            IDictionary<string, string>? data = source.ConfigMapRef is { } c ? ConfigMap(c.Name)?.Data
                : source.SecretRef is { } s ? Secret(s.Name)?.StringData ?? Secret(s.Name)?.Data?.ToDictionary(kv => kv.Key, kv => System.Text.Encoding.UTF8.GetString(kv.Value))
                : null;
            foreach (var (key, value) in data ?? new Dictionary<string, string>()) env[key] = new V1EnvVar { Name = key, Value = value };
        }
        foreach (var e in container.Env ?? []) env[e.Name] = e;
        return env;
    }
}
