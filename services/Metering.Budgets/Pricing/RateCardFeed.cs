using System.Text.Json;
using Confluent.Kafka;
using Metering.Contracts;
using Metering.Contracts.Billing;
using Metering.ServiceDefaults;

namespace Metering.Budgets.Pricing;

/// <summary>Follows <c>metering.rate-cards.v1</c> from its beginning (no consumer group: every instance needs every version).</summary>
public sealed class RateCardFeed(IConfiguration configuration, RateCards rateCards, ILogger<RateCardFeed> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Follow(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Follow(CancellationToken stop)
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = MeteringSettings.KafkaBootstrapServers(configuration),
            GroupId = "metering-budgets-rate-cards", // required by the client; never joined
            EnableAutoCommit = false,
        };
        while (!stop.IsCancellationRequested)
        {
            try
            {
                using var consumer = new ConsumerBuilder<Ignore, byte[]>(config).Build();
                consumer.Assign(new TopicPartitionOffset(KafkaTopics.RateCards.Name, 0, Offset.Beginning));
                while (!stop.IsCancellationRequested)
                {
                    if (consumer.Consume(TimeSpan.FromMilliseconds(500)) is not { IsPartitionEOF: false } record) continue;
                    var published = JsonSerializer.Deserialize<RateCardPublished>(record.Message.Value, MeteringJson.Options);
                    if (published?.Version is null) continue;
                    rateCards.Add(published.Version);
                    logger.LogInformation("Rate card version {Version} effective from {EffectiveFrom} received", published.Version.Version, published.Version.EffectiveFrom);
                }
            }
            catch (Exception ex) when (!stop.IsCancellationRequested)
            {
                logger.LogWarning(ex, "Following the rate cards failed; retrying");
                stop.WaitHandle.WaitOne(TimeSpan.FromSeconds(1));
            }
            catch (Exception)
            {
                return;
            }
        }
    }
}
