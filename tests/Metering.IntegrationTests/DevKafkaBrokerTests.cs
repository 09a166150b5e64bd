namespace Metering.IntegrationTests;

public class DevKafkaBrokerTests
{
    [Fact]
    public void Every_topic_exists_with_its_partition_count()
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = TestInfrastructure.KafkaBootstrapServers }).Build();
        var metadata = admin.GetMetadata(TimeSpan.FromSeconds(10));
        foreach (var topic in KafkaTopics.All)
        {
            var found = Assert.Single(metadata.Topics, t => t.Topic == topic.Name);
            Assert.Equal(topic.Partitions, found.Partitions.Count);
        }
    }

    [Fact]
    // The dead-letter topic, not the usage topic: services under test share this broker and must not see test payloads.
    public async Task Idempotent_acks_all_producer_and_a_consumer_group_round_trip_keyed_by_tenant()
    {
        var tenant = TestInfrastructure.UniqueTenant("kafka");
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig
        {
            BootstrapServers = TestInfrastructure.KafkaBootstrapServers, EnableIdempotence = true, Acks = Acks.All,
        }).Build();
        var first = await producer.ProduceAsync(KafkaTopics.UsageDeadLetters.Name, new Message<string, string> { Key = tenant, Value = "1" });
        var second = await producer.ProduceAsync(KafkaTopics.UsageDeadLetters.Name, new Message<string, string> { Key = tenant, Value = "2" });
        Assert.Equal(first.Partition, second.Partition);
        Assert.Equal(first.Offset + 1, second.Offset);

        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = TestInfrastructure.KafkaBootstrapServers, GroupId = "tests-" + Guid.NewGuid(), EnableAutoCommit = false,
        }).Build();
        consumer.Assign(new TopicPartitionOffset(first.TopicPartition, first.Offset));
        var values = new List<string>();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (values.Count < 2 && DateTime.UtcNow < deadline)
        {
            if (consumer.Consume(TimeSpan.FromSeconds(1)) is { } record && record.Message.Key == tenant) values.Add(record.Message.Value);
        }
        Assert.Equal(["1", "2"], values);
    }
}
