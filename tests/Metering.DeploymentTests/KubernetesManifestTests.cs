namespace Metering.DeploymentTests;

/// <summary>
/// The Kustomize overlays, rendered by kubectl and deserialized strictly into the Kubernetes client's typed models,
/// agree with the services' code.
/// </summary>
public sealed class KubernetesManifestTests
{
    public static TheoryData<string> Overlays => new(DeploymentConsistency.Overlays);

    private static RenderedManifests Render(string overlay) => RenderedManifests.Load(Path.Combine(BuildOutput.RepositoryRoot, overlay));

    [Theory, MemberData(nameof(Overlays))]
    public void Each_overlay_renders_into_valid_Kubernetes_objects(string overlay)
    {
        var rendered = Render(overlay);
        Assert.NotEmpty(rendered.Objects);
        Assert.Empty(WorkloadStructure.Check(rendered));
    }

    [Theory, MemberData(nameof(Overlays))]
    public void Each_overlay_deploys_the_services_on_their_ports_variables_and_health_paths(string overlay) =>
        Assert.Empty(KubernetesChecks.Services(Render(overlay), MeteringService.All));

    [Theory]
    [InlineData("infra/k8s/overlays/dev")]
    [InlineData("infra/k8s/overlays/prod")]
    public void Each_cluster_overlay_brings_Kafka_PostgreSQL_and_the_topics_of_KafkaTopics(string overlay)
    {
        var rendered = Render(overlay);
        Assert.Empty(KubernetesChecks.Platform(rendered));
        Assert.Empty(KubernetesChecks.Endpoints(rendered));
    }

    [Theory, MemberData(nameof(Overlays))]
    public void Each_overlay_migrates_the_schemas_with_the_Job_and_no_service_migrates_itself(string overlay) =>
        Assert.Empty(KubernetesChecks.Migration(Render(overlay), MeteringService.All));

    [Fact]
    public void In_production_the_Job_runs_the_release_images_with_migrate_and_the_services_are_told_not_to_migrate()
    {
        var prod = Render("infra/k8s/overlays/prod");
        var job = prod.OfType<k8s.Models.V1Job>().Single(j => j.Metadata.Name == KubernetesChecks.MigrateJob);
        Assert.Equal(
            ["budgets registry.example.com/metering/budgets:1.0.0 migrate", "billing registry.example.com/metering/billing:1.0.0 migrate"],
            job.Spec.Template.Spec.Containers.Select(c => $"{c.Name} {c.Image} {string.Join(' ', c.Args)}"));
        Assert.Equal("false", prod.GeneratedConfigMap("metering-config")!.Data["METERING_MIGRATE"]);
    }

    [Fact]
    public void Budgets_runs_as_a_cluster_of_several_silos_everywhere()
    {
        Assert.All(DeploymentConsistency.Overlays, overlay => Assert.True(Render(overlay).Deployment("metering-budgets")!.Spec.Replicas > 1, overlay));
    }

    [Theory, MemberData(nameof(Overlays))]
    public void Each_overlay_keeps_the_silo_port_to_Budgets_pods_with_a_NetworkPolicy(string overlay) =>
        Assert.Empty(KubernetesChecks.SiloNetwork(Render(overlay)));

    [Fact]
    public void In_production_the_silos_use_TLS_with_the_certificate_of_a_mounted_Secret_and_open_no_gateway()
    {
        var budgets = Render("infra/k8s/overlays/prod").Deployment("metering-budgets")!.Spec.Template.Spec;
        var container = budgets.Containers.Single(c => c.Name == "budgets");
        Assert.Equal(["http", "management", "silo"], container.Ports.Select(p => p.Name));
        var env = container.Env.ToDictionary(e => e.Name, e => e.Value);
        Assert.Equal((true, (string?)null), KubernetesChecks.SiloTlsOn(env.GetValueOrDefault("METERING_ORLEANS_TLS"), "Production"));
        var mount = container.VolumeMounts.Single(m => env["METERING_ORLEANS_TLS_CERTIFICATE"].StartsWith(m.MountPath + "/", StringComparison.Ordinal));
        Assert.Equal(mount.MountPath + "/tls.key", env["METERING_ORLEANS_TLS_KEY"]);
        Assert.Equal("metering-orleans-tls", budgets.Volumes.Single(v => v.Name == mount.Name).Secret.SecretName);
    }

    [Fact]
    public void Production_carries_no_secret_values_and_the_dev_overlay_no_production_environment()
    {
        var prod = Render("infra/k8s/overlays/prod");
        Assert.Empty(prod.OfType<k8s.Models.V1Secret>());
        Assert.Equal("Production", prod.GeneratedConfigMap("metering-config")!.Data["ASPNETCORE_ENVIRONMENT"]);
        Assert.Equal("Development", Render("infra/k8s/overlays/dev").GeneratedConfigMap("metering-config")!.Data["ASPNETCORE_ENVIRONMENT"]);
    }

    [Fact]
    public void A_misspelt_field_fails_the_strict_typed_reading()
    {
        const string yaml = """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: x
            spec:
              replicas: 1
              selector: {matchLabels: {a: b}}
              template:
                metadata: {labels: {a: b}}
                spec:
                  containers:
                    - name: x
                      image: x:1
                      readinessProbe:
                        httpGet: {paht: /healthz/ready, port: 80}
            """;
        Assert.ThrowsAny<Exception>(() => k8s.KubernetesYaml.LoadAllFromString(yaml, typeMap: null, strict: true));
    }
}
