using Confluent.Kafka;
using Npgsql;
using NpgsqlTypes;

namespace Metering.LoadGenerator.Benchmarks;

/// <summary>
/// What the bare parts do with the same usage on the same machine: librdkafka producing and consuming the serialized
/// events (Ingest's producer settings) and PostgreSQL taking the same rows by binary <c>COPY</c> into a table keyed like
/// our receipts. Metering cannot be faster than the slower of the two.
/// </summary>
public static class RawCeiling
{
    public sealed record Result(long Events, double KafkaEventsPerSecond, double PostgresCopyEventsPerSecond)
    {
        public double EventsPerSecond => Math.Min(KafkaEventsPerSecond, PostgresCopyEventsPerSecond);
    }

    public static async Task<Result> MeasureAsync(string bootstrap, string topic, string postgres, IReadOnlyList<UsageEvent> events, CancellationToken ct)
    {
        var kafka = await KafkaProduceConsumeAsync(bootstrap, topic, events, ct);
        var copy = await PostgresCopyAsync(postgres, events, ct);
        return new Result(events.Count, kafka, copy);
    }

    /// <summary>Produce and consume run at once; the rate is events over the time until the last one was consumed.</summary>
    public static async Task<double> KafkaProduceConsumeAsync(string bootstrap, string topic, IReadOnlyList<UsageEvent> events, CancellationToken ct)
    {
        var messages = events.Select(e => new Message<string, byte[]> { Key = e.Tenant, Value = UsageEventJson.Write(e) }).ToArray();
        using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            GroupId = "metering-bench-raw",
            EnableAutoCommit = false,
            FetchWaitMaxMs = 10,
        }).Build();
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).Build())
        {
            var partitions = admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single().Partitions;
            if (partitions.Count == 0) throw new InvalidOperationException($"topic {topic} does not exist; create it (12 partitions) for the benchmark");
            // Start at the current end of each partition, so earlier runs' messages are not counted.
            consumer.Assign(partitions.Select(p =>
            {
                var partition = new TopicPartition(topic, p.PartitionId);
                return new TopicPartitionOffset(partition, consumer.QueryWatermarkOffsets(partition, TimeSpan.FromSeconds(10)).High);
            }));
        }

        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig
        {
            BootstrapServers = bootstrap,
            ClientId = "metering-bench-raw",
            EnableIdempotence = true,
            Acks = Acks.All,
            LingerMs = 2,
            CompressionType = CompressionType.Zstd,
        }).Build();

        var clock = Stopwatch.StartNew();
        var consuming = Task.Factory.StartNew(() =>
        {
            var consumed = 0;
            while (consumed < messages.Length)
            {
                var record = consumer.Consume(TimeSpan.FromSeconds(30)) ?? throw new TimeoutException($"consumed only {consumed} of {messages.Length} raw messages");
                if (!record.IsPartitionEOF) consumed++;
            }
        }, ct, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        var failed = 0;
        foreach (var message in messages)
        {
            while (true)
            {
                try
                {
                    producer.Produce(topic, message, report => { if (report.Error.IsError) Interlocked.Increment(ref failed); });
                    break;
                }
                catch (ProduceException<string, byte[]> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull)
                {
                    producer.Poll(TimeSpan.FromMilliseconds(5));
                }
            }
        }
        producer.Flush(ct);
        if (failed > 0) throw new InvalidOperationException($"{failed} raw messages were not delivered");
        await consuming;
        return messages.Length / clock.Elapsed.TotalSeconds;
    }

    /// <summary>One binary COPY of every event's row into a scratch table with a (tenant, id) primary key, then dropped.</summary>
    public static async Task<double> PostgresCopyAsync(string connectionString, IReadOnlyList<UsageEvent> events, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        var table = $"metering_bench_copy_{Environment.ProcessId}";
        await using (var create = new NpgsqlCommand($"""
            create table {table} (tenant text not null, id text not null, meter text not null, quantity numeric not null,
                "timestamp" timestamptz not null, model text, gpu_type text, service text, primary key (tenant, id))
            """, connection))
            await create.ExecuteNonQueryAsync(ct);
        try
        {
            var clock = Stopwatch.StartNew();
            await using (var copy = await connection.BeginBinaryImportAsync(
                $"copy {table} (tenant, id, meter, quantity, \"timestamp\", model, gpu_type, service) from stdin (format binary)", ct))
            {
                foreach (var e in events)
                {
                    await copy.StartRowAsync(ct);
                    await copy.WriteAsync(e.Tenant, NpgsqlDbType.Text, ct);
                    await copy.WriteAsync(e.Id, NpgsqlDbType.Text, ct);
                    await copy.WriteAsync(e.Meter, NpgsqlDbType.Text, ct);
                    await copy.WriteAsync(e.Quantity, NpgsqlDbType.Numeric, ct);
                    await copy.WriteAsync(e.Timestamp.UtcDateTime, NpgsqlDbType.TimestampTz, ct);
                    await WriteNullableAsync(copy, e.Model, ct);
                    await WriteNullableAsync(copy, e.GpuType, ct);
                    await WriteNullableAsync(copy, e.Service, ct);
                }
                await copy.CompleteAsync(ct);
            }
            return events.Count / clock.Elapsed.TotalSeconds;
        }
        finally
        {
            await using var drop = new NpgsqlCommand($"drop table if exists {table}", connection);
            await drop.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    private static Task WriteNullableAsync(NpgsqlBinaryImporter copy, string? value, CancellationToken ct) =>
        value is null ? copy.WriteNullAsync(ct) : copy.WriteAsync(value, NpgsqlDbType.Text, ct);
}
