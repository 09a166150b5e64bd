using System.Text;
using Confluent.Kafka;

namespace Metering.Testing;

/// <summary>One key's records on a topic of one partition (the dead-letter topic), read from its beginning by a test.</summary>
public static class KeyedRecords
{
    /// <summary>
    /// The records of <paramref name="key"/>, read until at least <paramref name="atLeast"/> came and then none more for
    /// <paramref name="quiet"/>, or until <paramref name="patience"/> ends.
    /// </summary>
    public static List<Message<string, byte[]>> Read(string bootstrapServers, string topic, string key, int atLeast, TimeSpan quiet, TimeSpan patience)
    {
        using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers, GroupId = $"test-reader-{Guid.NewGuid():N}", EnableAutoCommit = false,
        }).Build();
        consumer.Assign(new TopicPartitionOffset(topic, 0, Offset.Beginning));
        var records = new List<Message<string, byte[]>>();
        var deadline = DateTime.UtcNow + patience;
        while (DateTime.UtcNow < deadline)
        {
            var record = consumer.Consume(records.Count >= atLeast ? quiet : TimeSpan.FromMilliseconds(200));
            if (record is null)
            {
                if (records.Count >= atLeast) break;
                continue;
            }
            if (record.Message.Key == key) records.Add(record.Message);
        }
        return records;
    }

    public static string Header(this Message<string, byte[]> message, string name) => Encoding.UTF8.GetString(message.Headers.GetLastBytes(name));
}
