namespace Metering.DeploymentTests;

/// <summary>The checks fail when a deployment file drifts from the code: shown on a copy of the files with one change each.</summary>
public sealed class DriftDetectionTests : IDisposable
{
    private readonly string _copy = Directory.CreateTempSubdirectory("metering-drift-").FullName;

    public DriftDetectionTests()
    {
        foreach (var file in new[] { "Tiltfile", "tilt/metering.tiltfile", "docker-compose.yml", ".dockerignore" }
                     .Concat(MeteringService.All.Select(s => s.DockerfilePath).Distinct())
                     .Concat(MeteringService.All.Select(s => $"services/{s.Project}/{s.Project}.csproj"))
                     .Concat(["contracts/Metering.Contracts/Metering.Contracts.csproj", "services/Metering.ServiceDefaults/Metering.ServiceDefaults.csproj", "services/Metering.UsageTopic/Metering.UsageTopic.csproj", "services/Metering.Kafka/Metering.Kafka.csproj",
                         "services/Metering.Forecasting/Metering.Forecasting.csproj", "services/Metering.Pricing/Metering.Pricing.csproj"])
                     .Concat(Files("infra/k8s")).Concat(Files("infra/docker")))
        {
            var target = Path.Combine(_copy, file);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(Path.Combine(BuildOutput.RepositoryRoot, file), target);
        }
        // The dashboard check reads the instruments from services/ sources.
        CopyTree("services", "*.cs");
    }

    [Fact]
    public void An_unaltered_copy_has_no_problems() => Assert.Empty(DeploymentConsistency.Check(_copy));

    [Fact]
    public void A_container_port_that_differs_from_Program_cs_is_reported()
    {
        Replace("infra/k8s/base/ingest.yaml", "containerPort: 5080", "containerPort: 8080");
        AssertReported("infra/k8s/base: Deployment metering-ingest: container port http is 8080; Metering.Ingest/Program.cs listens on 5080");
    }

    [Fact]
    public void A_topic_with_other_partitions_than_KafkaTopics_is_reported_by_the_list_the_job_and_compose()
    {
        Replace("infra/k8s/platform/topics.txt", "metering.usage.v1                 12", "metering.usage.v1                 6");
        var problems = AssertReported(
            "infra/k8s/platform/topics.txt: topic metering.usage.v1 has 6 partitions; KafkaTopics.cs says 12",
            "infra/k8s/overlays/prod: ConfigMap metering-topics: topic metering.usage.v1 has 6 partitions; KafkaTopics.cs says 12");
        Assert.Contains(problems, p => p.StartsWith("docker-compose.yml → ", StringComparison.Ordinal) && p.EndsWith("has 6 partitions; KafkaTopics.cs says 12", StringComparison.Ordinal));
    }

    [Fact]
    public void A_compacted_topic_provisioned_without_compaction_is_reported()
    {
        Replace("infra/k8s/platform/topics.txt", "12          compact", "12          delete");
        AssertReported("infra/k8s/platform/topics.txt: topic metering.budget-status.v1 cleanup.policy=delete; KafkaTopics.cs says compacted=True");
    }

    [Fact]
    public void A_variable_no_service_reads_and_a_wrong_health_path_are_reported()
    {
        Replace("infra/k8s/base/kustomization.yaml", "KAFKA_BOOTSTRAP_SERVERS=kafka:9092", "KAFKA_BOOTSTRAP=kafka:9092");
        Replace("infra/k8s/base/billing.yaml", "path: /healthz/ready", "path: /health/ready");
        AssertReported(
            "infra/k8s/base: Deployment metering-budgets: sets KAFKA_BOOTSTRAP, which no service reads",
            "infra/k8s/base: Deployment metering-budgets: does not set KAFKA_BOOTSTRAP_SERVERS, which Metering.Budgets requires",
            "infra/k8s/overlays/dev: Deployment metering-billing: readiness probe path /health/ready; the service serves /healthz/ready");
    }

    [Fact]
    public void Port_drift_in_the_Dockerfile_compose_and_Tiltfile_is_reported()
    {
        Replace("Dockerfile", "EXPOSE 5082", "EXPOSE 5084");
        Replace("docker-compose.yml", "\"5081:5081\"", "\"5091:5081\"");
        Replace("Tiltfile", "'Metering.Ingest', 5080", "'Metering.Ingest', 5090");
        AssertReported(
            "Dockerfile target billing: EXPOSE 5084 5092 does not include the service's port 5082",
            "docker-compose.yml: budgets: ports do not publish 5081:5081",
            "Tiltfile: metering-ingest forwards port 5090; Metering.Ingest/Program.cs listens on 5080");
    }

    [Fact]
    public void A_secret_given_as_a_plain_value_is_reported()
    {
        Replace("infra/k8s/base/ingest.yaml", """
                        - name: METERING_ADMIN_TOKEN
                          valueFrom:
                            secretKeyRef:
                              name: metering-secrets
                              key: METERING_ADMIN_TOKEN
            """, """
                        - name: METERING_ADMIN_TOKEN
                          value: plain-token
            """);
        AssertReported("infra/k8s/base: Deployment metering-ingest: METERING_ADMIN_TOKEN is a secret and must come from a Secret (secretKeyRef)");
    }

    [Fact]
    public void A_missing_migration_Job_is_reported_in_every_overlay()
    {
        Replace("infra/k8s/base/kustomization.yaml", "  - migrate-job.yaml\n", "");
        var problems = DeploymentConsistency.Check(_copy);
        Assert.All(DeploymentConsistency.Overlays, overlay =>
            Assert.Contains($"{overlay}: no Job metering-migrate, which runs Metering.Budgets and Metering.Billing with the argument migrate", problems));
    }

    [Fact]
    public void Production_services_that_would_migrate_the_schema_themselves_are_reported()
    {
        Replace("infra/k8s/overlays/prod/kustomization.yaml", "patches:\n", """
            configMapGenerator:
              - name: metering-config
                behavior: merge
                literals:
                  - METERING_MIGRATE=true
            patches:

            """);
        var problems = DeploymentConsistency.Check(_copy);
        foreach (var service in new[] { "metering-budgets", "metering-billing" })
            Assert.Contains($"infra/k8s/overlays/prod: Deployment {service} changes the database schema itself (METERING_MIGRATE=true, ASPNETCORE_ENVIRONMENT=Production); " +
                            "only the Job metering-migrate may: set METERING_MIGRATE=false", problems);
        Assert.DoesNotContain(problems, p => p.Contains("metering-ingest", StringComparison.Ordinal) || p.StartsWith("infra/k8s/overlays/dev", StringComparison.Ordinal));
    }

    [Fact]
    public void A_migration_Job_without_the_migrate_argument_or_a_variable_migrate_reads_is_reported()
    {
        Replace("infra/k8s/base/migrate-job.yaml", "args: [\"migrate\"]", "args: [\"rebuild\"]");
        Replace("infra/k8s/base/migrate-job.yaml", """
                        - name: METERING_ADMIN_TOKEN
                          valueFrom:
                            secretKeyRef:
                              name: metering-secrets
                              key: METERING_ADMIN_TOKEN

            """, "");
        var problems = AssertReported(
            "infra/k8s/overlays/prod: Job metering-migrate: container budgets: args are [rebuild]; Metering.Budgets migrates with the argument migrate",
            "infra/k8s/overlays/dev: Job metering-migrate: container billing: args are [rebuild]; Metering.Billing migrates with the argument migrate",
            "infra/k8s/base: Job metering-migrate: container billing: does not set METERING_ADMIN_TOKEN, which Metering.Billing migrate needs");
        Assert.DoesNotContain(problems, p => p.Contains("container budgets: does not set", StringComparison.Ordinal));
    }

    [Fact]
    public void Services_that_do_not_wait_for_the_migration_in_compose_and_Tilt_are_reported()
    {
        Replace("docker-compose.yml", "      billing-migrate:\n        condition: service_completed_successfully\n", "");
        Replace("Tiltfile", "5081, 5091, ['metering-topics', 'postgres', 'metering-migrate']", "5081, 5091, ['metering-topics', 'postgres']");
        AssertReported(
            "docker-compose.yml: billing: must start after billing-migrate completed (condition: service_completed_successfully)",
            "Tiltfile: metering-budgets must wait for metering-migrate");
    }

    [Fact]
    public void Metrics_announced_on_the_API_port_published_on_every_interface_or_scraped_there_are_reported()
    {
        Replace("infra/k8s/base/budgets.yaml", "prometheus.io/port: \"5091\"", "prometheus.io/port: \"5081\"");
        Replace("infra/k8s/base/ingest.yaml", "value: \"http://+:5090\"", "value: \"http://127.0.0.1:5090\"");
        Replace("docker-compose.yml", "\"127.0.0.1:5092:5092\"", "\"5092:5092\"");
        Replace("Dockerfile", "METERING_MANAGEMENT_URL=http://+:5092", "METERING_MANAGEMENT_URL=http://+:5082");
        Replace("infra/k8s/observability/prometheus.yml", "otel-collector:8889", "metering-billing:5082");
        Replace("Tiltfile", "'Metering.Budgets', 5081, 5091", "'Metering.Budgets', 5081, 5081");
        AssertReported(
            "infra/k8s/base: Deployment metering-budgets: annotation prometheus.io/port is 5081; the metrics are on the management port 5091",
            "infra/k8s/overlays/prod: Deployment metering-ingest: METERING_MANAGEMENT_URL is http://127.0.0.1:5090; the metrics must be served on http://+:5090",
            "docker-compose.yml: billing: publishes the management port as 5092:5092; the metrics carry tenants and spend: publish it on 127.0.0.1 only",
            "Dockerfile target billing: METERING_MANAGEMENT_URL must serve the metrics on http://+:5092",
            "infra/k8s/observability/prometheus.yml: target metering-billing:5082 is metering-billing's API port; its metrics are on the management port 5092",
            "Tiltfile: metering-budgets forwards management port 5081; Metering.Budgets/Program.cs serves its metrics on 5091");
    }

    [Fact]
    public void An_Orleans_gateway_port_and_a_silo_port_open_to_every_pod_are_reported()
    {
        Replace("infra/k8s/base/budgets.yaml", """
                        - name: silo
                          containerPort: 11111

            """, """
                        - name: silo
                          containerPort: 11111
                        - name: gateway
                          containerPort: 30000

            """);
        Replace("infra/k8s/base/budgets.yaml", """
                - from:
                    - podSelector:
                        matchLabels:
                          app.kubernetes.io/name: metering-budgets
                  ports:
                    - port: silo
            """, """
                - from:
                    - podSelector: {}
                  ports:
                    - port: silo
            """);
        Replace("Dockerfile", "EXPOSE 5081 5091 11111", "EXPOSE 5081 5091 11111 30000");
        AssertReported(
            "infra/k8s/base: Deployment metering-budgets: declares container port gateway 30000, which Metering.Budgets does not open",
            "infra/k8s/overlays/prod: Deployment metering-budgets: a NetworkPolicy rule opens the silo port 11111 to pods other than Budgets'",
            "Dockerfile target budgets: EXPOSE 30000, which Metering.Budgets does not open");
    }

    [Fact]
    public void Production_silos_without_TLS_or_with_a_certificate_outside_the_mounted_Secret_are_reported()
    {
        Replace("infra/k8s/base/budgets.yaml", "value: /etc/metering/orleans-tls/tls.key", "value: /etc/metering/tls.key");
        var problems = AssertReported("infra/k8s/overlays/prod: Deployment metering-budgets: METERING_ORLEANS_TLS_KEY is /etc/metering/tls.key, which is in no volume mounted from a Secret");
        Assert.DoesNotContain(problems, p => p.StartsWith("infra/k8s/overlays/dev", StringComparison.Ordinal));

        Replace("infra/k8s/base/budgets.yaml", "            - name: METERING_ORLEANS_TLS_CERTIFICATE\n", "            - name: METERING_ORLEANS_TLS\n              value: \"false\"\n            - name: METERING_ORLEANS_TLS_CERTIFICATE\n");
        AssertReported("infra/k8s/overlays/prod: Deployment metering-budgets: silo-to-silo TLS is off (METERING_ORLEANS_TLS=false) with ASPNETCORE_ENVIRONMENT=Production; outside Development the silos must use TLS");
    }

    [Fact]
    public void A_second_Dockerfile_a_missing_target_and_a_build_that_leaves_a_service_out_are_reported()
    {
        File.WriteAllText(Path.Combine(_copy, "services/Metering.Ingest/Dockerfile"), "FROM mcr.microsoft.com/dotnet/aspnet:10.0\n");
        Replace("Dockerfile", "FROM runtime AS billing\n", "FROM runtime AS billing-old\n");
        Replace("Dockerfile", "ARG SERVICES=\"Metering.Ingest ", "ARG SERVICES=\"");
        Replace("Dockerfile", "COPY contracts/ contracts/\n", "");
        Replace("Dockerfile", "COPY .tilt/publish/ /app/", "COPY .tilt/publish/metering-budgets/ /app/metering-budgets/");
        var problems = AssertReported(
            "services/Metering.Ingest/Dockerfile: a second Dockerfile; every image is a target of Dockerfile",
            "Dockerfile: no target billing (FROM ... AS billing) for Metering.Billing",
            "Dockerfile: target billing-old has an ENTRYPOINT but is no service of services/",
            "Dockerfile target ingest: the build's SERVICES do not include Metering.Ingest",
            "Dockerfile target budgets: the build does not copy contracts/Metering.Contracts/Metering.Contracts.csproj, which Metering.Budgets references",
            "Dockerfile target ingest: with APP_SOURCE=host the image does not take Tilt's build in .tilt/publish/metering-ingest/");
        Assert.DoesNotContain(problems, p => p.StartsWith("Dockerfile target budgets: with APP_SOURCE=host", StringComparison.Ordinal));
    }

    [Fact]
    public void A_console_that_reaches_the_wrong_API_or_serves_no_app_built_by_Node_20_is_reported()
    {
        Replace("infra/k8s/base/console.yaml", "value: \"http://metering-billing:5082\"", "value: \"http://metering-billing:5092\"");
        Replace("infra/k8s/base/console.yaml", "- name: ASPNETCORE_FORWARDEDHEADERS_ENABLED\n              value: \"true\"", "- name: ASPNETCORE_FORWARDEDHEADERS_ENABLED\n              value: \"false\"");
        Replace("docker-compose.yml", "METERING_BUDGETS_URL: http://budgets:5081", "METERING_BUDGETS_URL: http://127.0.0.1:5081");
        Replace("Dockerfile", "FROM node:20-bookworm-slim AS console-app-container", "FROM node:18-bookworm-slim AS console-app-container");
        Replace("Dockerfile", "RUN npm run build\n", "RUN true\n");
        Replace("Tiltfile", "['metering-console-app', 'metering-billing'], web_app=True)", "['metering-billing'])");
        var problems = AssertReported(
            "infra/k8s/overlays/prod: Deployment metering-console: METERING_BILLING_URL is http://metering-billing:5092; it must reach metering-billing at http://metering-billing:5082",
            "infra/k8s/base: Deployment metering-console: ASPNETCORE_FORWARDEDHEADERS_ENABLED must be true: behind an Ingress that terminates TLS the sign-in's origin check and the Secure cookie need the browser's https",
            "docker-compose.yml: console: METERING_BUDGETS_URL is http://127.0.0.1:5081; it must reach metering-budgets at http://budgets:5081",
            "Dockerfile target console: the app copied to /app/dist is not built FROM node:20",
            "Dockerfile target console: the app's build does not run npm run build",
            "Tiltfile: metering-console serves the web console: metering_service(..., web_app=True)",
            "Tiltfile: metering-console must wait for metering-console-app");
        Assert.DoesNotContain(problems, p => p.Contains("metering-console must wait for metering-topics", StringComparison.Ordinal));

        Replace("Dockerfile", "COPY --from=console-app --chown=1654:1654 /src/console/dist/ ./dist/\n", "");
        AssertReported("Dockerfile target console: copies no built app to METERING_CONSOLE_DIST /app/dist");
    }

    /// <summary>The problems the checks find on the copy, asserted to include each of <paramref name="expected"/>.</summary>
    private IReadOnlyList<string> AssertReported(params string[] expected)
    {
        var problems = DeploymentConsistency.Check(_copy);
        foreach (var problem in expected) Assert.Contains(problem, problems);
        return problems;
    }

    private void Replace(string file, string from, string to)
    {
        var path = Path.Combine(_copy, file);
        var text = File.ReadAllText(path);
        Assert.Contains(from, text);
        File.WriteAllText(path, text.Replace(from, to, StringComparison.Ordinal));
    }

    private static IEnumerable<string> Files(string folder) =>
        Directory.EnumerateFiles(Path.Combine(BuildOutput.RepositoryRoot, folder), "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(BuildOutput.RepositoryRoot, f));

    private void CopyTree(string folder, string pattern)
    {
        foreach (var file in Directory.EnumerateFiles(Path.Combine(BuildOutput.RepositoryRoot, folder), pattern, SearchOption.AllDirectories)
                     .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}")))
        {
            var target = Path.Combine(_copy, Path.GetRelativePath(BuildOutput.RepositoryRoot, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
        }
    }

    public void Dispose() => Directory.Delete(_copy, recursive: true);
}
