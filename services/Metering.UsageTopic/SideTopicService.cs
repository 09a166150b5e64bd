namespace Metering.UsageTopic;

/// <summary>
/// A service's follower of a side topic, run as a hosted service: the subclass is the handler and says which topic,
/// group and start; the broker comes from <c>KAFKA_BOOTSTRAP_SERVERS</c>, and every record passed over is counted in
/// <c>metering.topic.records.skipped</c> (<see cref="MeteringTelemetry.SideTopicRecordSkipped"/>).
/// </summary>
public abstract class SideTopicService(IConfiguration configuration, ILogger logger) : BackgroundService, ISideTopicHandler
{
    protected abstract string Topic { get; }
    protected abstract string GroupId { get; }

    /// <summary>What one record is, for log lines: "rate-card record".</summary>
    protected abstract string RecordName { get; }

    protected virtual SideTopicStart Start => SideTopicStart.CommittedOffsets;
    protected virtual int MaxBatch => 1;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        new SideTopicFollower(new SideTopicFollowerOptions
        {
            BootstrapServers = MeteringSettings.KafkaBootstrapServers(configuration),
            Topic = Topic,
            GroupId = GroupId,
            Start = Start,
            RecordName = RecordName,
            MaxBatch = MaxBatch,
            RecordSkipped = MeteringTelemetry.SideTopicRecordSkipped,
            Logger = logger,
        }, this).RunAsync(stoppingToken);

    public abstract Task HandleAsync(SideTopicBatch batch, CancellationToken ct);

    public virtual void OnCaughtUp() { }
}
