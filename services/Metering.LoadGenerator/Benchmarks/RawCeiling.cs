using Confluent.Kafka;
using Metering.Kafka;
using Npgsql;
using NpgsqlTypes;

namespace Metering.LoadGenerator.Benchmarks;

/// <summary>
/// What the bare parts do with the same usage on the same machine: librdkafka producing and consuming the records the
/// system writes (usage batch v2, one record per tenant per request as Ingest and the emitter encode them through
/// <see cref="UsageMessages"/>, decoded on the consume side; Ingest's producer settings) and PostgreSQL taking the same
/// rows by binary <c>COPY</c> into a table keyed like our receipts. Metering cannot be faster than the slower of the two.
/// The old record of one event's v1 JSON is measured too, for comparison only.
/// </summary>
public static class RawCeiling
{
    public sealed record Result(long Events, double KafkaEventsPerSecond, double KafkaV1EventsPerSecond, double PostgresCopyEventsPerSecond, int Records)
    {
        public double EventsPerSecond => Math.Min(KafkaEventsPerSecond, PostgresCopyEventsPerSecond);
    }

    /// <param name="batchSize">Events per request of the run: each request's events become one record per tenant in it.</param>
    public static async Task<Result> MeasureAsync(string bootstrap, string topic, string postgres, IReadOnlyList<UsageEvent> events, int batchSize, CancellationToken ct)
    {
        var records = BatchRecords(events, batchSize, DateTimeOffset.UtcNow);
        var kafka = await KafkaProduceConsumeAsync(bootstrap, topic, records, events.Count, ct);
        var v1 = await KafkaProduceConsumeAsync(bootstrap, topic, [.. events.Select(e => UsageMessages.Create(e, e.Timestamp))], events.Count, ct);
        var copy = await PostgresCopyAsync(postgres, events, ct);
        return new Result(events.Count, kafka, v1, copy, records.Count);
    }

    /// <summary>What Ingest produces for <paramref name="events"/> sent in requests of <paramref name="batchSize"/>: per request, each tenant's events in order, as v2 records.</summary>
    public static List<Message<string?, byte[]>> BatchRecords(IReadOnlyList<UsageEvent> events, int batchSize, DateTimeOffset validatedAt)
    {
        var records = new List<Message<string?, byte[]>>();
        foreach (var request in events.Chunk(batchSize))
            foreach (var tenant in request.GroupBy(e => e.Tenant, StringComparer.Ordinal))
                UsageMessages.AddBatches(records, tenant.Key, tenant.ToArray(), validatedAt, activity: null);
        return records;
    }

    /// <summary>
    /// Produce and consume run at once; the consumer decodes each record (v2, else v1 JSON) and counts its events. The rate
    /// is events over the time until the last one was consumed.
    /// </summary>
    public static async Task<double> KafkaProduceConsumeAsync(string bootstrap, string topic, IReadOnlyList<Message<string?, byte[]>> messages, long events, CancellationToken ct)
    {
        using var consumer = new ConsumerBuilder<string?, byte[]>(new ConsumerConfig
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

        using var producer = new ProducerBuilder<string?, byte[]>(new ProducerConfig
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
            long consumed = 0;
            while (consumed < events)
            {
                var record = consumer.Consume(TimeSpan.FromSeconds(30)) ?? throw new TimeoutException($"consumed only {consumed} of {events} raw events");
                if (record.IsPartitionEOF) continue;
                consumed += Decoded(record.Message);
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
                catch (ProduceException<string?, byte[]> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull)
                {
                    producer.Poll(TimeSpan.FromMilliseconds(5));
                }
            }
        }
        producer.Flush(ct);
        if (failed > 0) throw new InvalidOperationException($"{failed} raw messages were not delivered");
        await consuming;
        return events / clock.Elapsed.TotalSeconds;
    }

    /// <summary>How many events a record holds, decoded as the consumers decode it.</summary>
    private static int Decoded(Message<string?, byte[]> record)
    {
        if (!UsageMessages.IsBatch(record.Headers, record.Value))
            return UsageEventJson.Read(record.Value, DateTimeOffset.UtcNow, []) is null ? throw new InvalidOperationException("a raw v1 record did not decode") : 1;
        return UsageBatchEncoding.TryRead(record.Value, out var events, out var error) ? events.Count : throw new InvalidOperationException($"a raw record {error}");
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
