namespace Metering.DeploymentTests;

/// <summary>Every service in services/ (the three APIs and the console's host) has an image, manifests and a Tilt resource.</summary>
public sealed class ServicesTests
{
    [Fact]
    public void The_three_APIs_and_the_console_are_found_with_their_default_ports_and_management_ports()
    {
        Assert.Equal(
            ["metering-ingest:5080/5090:Api", "metering-budgets:5081/5091:Api", "metering-billing:5082/5092:Api", "metering-console:5083/5093:Console"],
            MeteringService.All.Select(s => $"{s.Name}:{s.Port}/{s.ManagementPort}:{s.Kind}"));
    }

    [Fact]
    public void The_console_needs_the_URLs_of_the_three_APIs_and_no_token_Kafka_or_PostgreSQL()
    {
        Assert.Equal(
            ["METERING_BILLING_URL", "METERING_BUDGETS_URL", "METERING_INGEST_URL"],
            MeteringService.Named("metering-console").RequiredVariables.Order(StringComparer.Ordinal));
        Assert.Equal(["metering-ingest", "metering-budgets", "metering-billing"],
            new[] { "METERING_INGEST_URL", "METERING_BUDGETS_URL", "METERING_BILLING_URL" }.Select(MeteringService.UpstreamOf));
    }

    [Fact]
    public void Budgets_migrates_with_PostgreSQL_alone_and_Billing_with_its_host_Ingest_and_the_console_have_no_schema()
    {
        Assert.Equal(
            ["metering-ingest:None", "metering-budgets:PostgresOnly", "metering-billing:Host", "metering-console:None"],
            MeteringService.All.Select(s => $"{s.Name}:{s.Migrate}"));
        Assert.Equal(["METERING_POSTGRES"], MeteringService.Named("metering-budgets").MigrateVariables);
        Assert.Superset(new HashSet<string> { "METERING_POSTGRES", "KAFKA_BOOTSTRAP_SERVERS", "METERING_ADMIN_TOKEN", "METERING_EMITTER_TOKEN" },
            MeteringService.Named("metering-billing").MigrateVariables.ToHashSet());
    }

    [Fact]
    public void Every_service_has_a_Dockerfile_a_Deployment_and_a_Tilt_resource()
    {
        var dev = RenderedManifests.Load(Path.Combine(BuildOutput.RepositoryRoot, "infra/k8s/overlays/dev"));
        var tilt = TiltChecks.Services(File.ReadAllText(Path.Combine(BuildOutput.RepositoryRoot, TiltChecks.Tiltfile)));
        Assert.All(MeteringService.All, service =>
        {
            Assert.True(File.Exists(Path.Combine(BuildOutput.RepositoryRoot, service.DockerfilePath)), service.DockerfilePath);
            Assert.NotNull(dev.Deployment(service.Name));
            Assert.Contains(tilt, t => t.Name == service.Name);
        });
    }

    [Fact]
    public void The_services_read_every_variable_the_deployments_name()
    {
        Assert.Superset(new HashSet<string>
        {
            "METERING_POSTGRES", "KAFKA_BOOTSTRAP_SERVERS", "METERING_ADMIN_TOKEN", "METERING_EMITTER_TOKEN", "METERING_VIEWER_TOKENS",
            "METERING_ORLEANS_CLUSTER_ID", "METERING_ORLEANS_ADVERTISED_IP", "METERING_ORLEANS_SILO_PORT", "METERING_MANAGEMENT_URL",
            "METERING_ORLEANS_TLS", "METERING_ORLEANS_TLS_CERTIFICATE", "METERING_ORLEANS_TLS_KEY", "METERING_ORLEANS_TLS_CA",
            "METERING_BUDGETS_GROUP_ID", "METERING_BILLING_GROUP_ID", "OTEL_EXPORTER_OTLP_ENDPOINT", "METERING_MIGRATE",
        }, ConfigurationVariables.Known.ToHashSet());
        Assert.DoesNotContain("METERING_ORLEANS_GATEWAY_PORT", ConfigurationVariables.Known);
    }
}
