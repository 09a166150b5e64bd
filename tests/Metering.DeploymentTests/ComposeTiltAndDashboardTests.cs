namespace Metering.DeploymentTests;

public sealed class ComposeTiltAndDashboardTests
{
    [Fact]
    public void The_compose_file_runs_the_services_on_their_ports_with_the_topics_of_KafkaTopics() =>
        Assert.Empty(ComposeChecks.Check(BuildOutput.RepositoryRoot, MeteringService.All));

    [Fact]
    public void The_Tiltfile_builds_forwards_and_orders_every_service() =>
        Assert.Empty(TiltChecks.Check(BuildOutput.RepositoryRoot, MeteringService.All));

    [Fact]
    public void The_dashboard_queries_only_metrics_that_are_emitted() =>
        Assert.Empty(DashboardChecks.Check(BuildOutput.RepositoryRoot));

    [Fact]
    public void The_dashboard_covers_ingestion_rejections_dead_letters_lost_records_lag_throttling_authorize_latency_spend_and_freshness()
    {
        var queries = string.Join("\n", DashboardChecks.Queries(BuildOutput.RepositoryRoot));
        Assert.All(
            ["metering_ingest_events_accepted_total", "metering_ingest_requests_rejected_total", "metering_usage_dead_lettered_total",
             "metering_usage_lost_total",
             "kafka_consumer_group_lag_sum", "metering_budgets_tenants_throttled", "/v1/tenants/{tenant}/authorize", "metering_budgets_usage_cost_usd_total",
             "metering_usage_stored_after_milliseconds_bucket", "metering_usage_batch_store_duration_milliseconds_bucket"],
            metric => Assert.Contains(metric, queries));
    }
}
