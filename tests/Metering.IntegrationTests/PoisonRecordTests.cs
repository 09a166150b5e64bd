using Metering.Kafka;

namespace Metering.IntegrationTests;

/// <summary>
/// The usage consumer's loop (<see cref="UsageTopicConsumer"/>) on a development broker of its own, storing into a
/// PostgreSQL table that refuses some valid records (a check constraint): no record stops the partition, and a failure
/// that is not tied to a record is retried, never dead-lettered.
/// </summary>
public sealed class PoisonRecordTests : OwnBrokerTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private readonly string _tenant = TestInfrastructure.UniqueTenant("poison");
    private readonly string _table = "poison_" + Guid.NewGuid().ToString("N")[..12];
    private NpgsqlDataSource _database = null!;
    private DeadLetterProducer _deadLetters = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _deadLetters = new DeadLetterProducer(Configuration);
        _database = NpgsqlDataSource.Create(TestInfrastructure.Postgres);
        // A store that refuses some records valid by the usage rules: PostgreSQL answers 23514 (check_violation) for them.
        await using var create = _database.CreateCommand(
            $"create table {_table} (tenant text not null, id text not null, quantity numeric not null, primary key (tenant, id), check (id not like 'refused%'))");
        await create.ExecuteNonQueryAsync();
    }

    public override async Task DisposeAsync()
    {
        await using (var drop = _database.CreateCommand($"drop table if exists {_table}")) await drop.ExecuteNonQueryAsync();
        await _database.DisposeAsync();
        _deadLetters.Dispose();
        await base.DisposeAsync();
    }

    private UsageEvent Usage(string id, decimal quantity = 1) =>
        new(id, _tenant, Meters.InputTokens, quantity, DateTimeOffset.UtcNow, Model: "m");

    private Task ProduceAsync(params byte[][] payloads) =>
        ProduceAsync(KafkaTopics.Usage.Name, payloads.Select(p => ((string?)_tenant, (byte[]?)p)).ToArray());

    private static byte[] Json(UsageEvent usage) => UsageEventJson.Write(usage);

    private TableConsumer Consumer() => new(Configuration, _database, _table, _deadLetters);

    private async Task<Dictionary<string, decimal>> StoredAsync()
    {
        await using var command = _database.CreateCommand($"select id, quantity from {_table} where tenant = @tenant");
        command.Parameters.AddWithValue("tenant", _tenant);
        var stored = new Dictionary<string, decimal>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) stored[reader.GetString(0)] = reader.GetDecimal(1);
        return stored;
    }

    private async Task<Dictionary<string, decimal>> WaitForStoredAsync(int count)
    {
        var deadline = DateTime.UtcNow + Patience;
        var stored = await StoredAsync();
        while (stored.Count < count && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
            stored = await StoredAsync();
        }
        return stored;
    }

    /// <summary>The dead letters of this test's tenant: every one there, read until none more arrives for a moment.</summary>
    private List<(string Reason, string Cause, string Group, string Origin, byte[] Payload)> DeadLetters(int atLeast) =>
        KeyedRecords.Read(Kafka.BootstrapServers, KafkaTopics.UsageDeadLetters.Name, _tenant, atLeast, quiet: TimeSpan.FromSeconds(1), Patience)
            .Select(m => (m.Header(DeadLetterProducer.ReasonHeader), m.Header(DeadLetterProducer.CauseHeader), m.Header(DeadLetterProducer.GroupHeader),
                m.Header(DeadLetterProducer.OriginHeader), m.Value)).ToList();

    [Fact]
    public async Task A_record_the_store_refuses_is_dead_lettered_and_every_record_around_it_is_stored_once()
    {
        // One batch: 30 good events, and among them a record the store refuses, one that breaks the rules and one the
        // JSON reader cannot turn into strings (a lone surrogate).
        var payloads = Enumerable.Range(0, 30).Select(i => Json(Usage($"good-{i}", i + 1))).ToList();
        var refused = Json(Usage("refused-1", 1000));
        payloads.Insert(10, refused);
        payloads.Insert(20, Json(Usage("negative", -5)));
        var surrogate = Encoding.UTF8.GetBytes(
            $$$"""{"id":"surrogate","tenant":"{{{_tenant}}}","meter":"input_tokens","quantity":1,"timestamp":"{{{DateTimeOffset.UtcNow:O}}}","model":"m","attributes":{"k":"\ud800"}}""");
        payloads.Insert(25, surrogate);
        await ProduceAsync([.. payloads]);

        using var consumer = Consumer();
        await consumer.StartAsync(CancellationToken.None);
        try
        {
            var stored = await WaitForStoredAsync(30);
            Assert.Equal(Enumerable.Range(0, 30).ToDictionary(i => $"good-{i}", i => (decimal)(i + 1)), stored);

            var letters = DeadLetters(atLeast: 3);
            Assert.All(letters, l => Assert.Equal(consumer.Group, l.Group));
            Assert.Collection(letters.OrderBy(l => l.Origin, StringComparer.Ordinal),
                l => Assert.Equal((DeadLetterCauses.Refused, Convert.ToHexString(refused)), (l.Cause, Convert.ToHexString(l.Payload))),
                l => Assert.Equal((DeadLetterCauses.Invalid, "quantity must be between 0 and 1e12"), (l.Cause, l.Reason)),
                l => Assert.Equal((DeadLetterCauses.Invalid, Convert.ToHexString(surrogate)), (l.Cause, Convert.ToHexString(l.Payload))));
            Assert.Contains("23514", letters.Single(l => l.Cause == DeadLetterCauses.Refused).Reason);
            Assert.True(consumer.IsRunning);
        }
        finally
        {
            await consumer.StopAsync(CancellationToken.None);
        }

        // The partition went on: its committed offset is past the last record.
        using var offsets = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = Kafka.BootstrapServers, GroupId = consumer.Group }).Build();
        var committed = offsets.Committed(Enumerable.Range(0, KafkaTopics.Usage.Partitions).Select(p => new TopicPartition(KafkaTopics.Usage.Name, p)),
            TimeSpan.FromSeconds(10));
        Assert.Equal(payloads.Count, committed.Where(c => c.Offset != Offset.Unset).Sum(c => c.Offset.Value));
    }

    /// <summary>A usage batch v2 record of this test's tenant, as Ingest and the emitter write them.</summary>
    private byte[] Batch(params UsageEvent[] events)
    {
        var message = UsageMessages.CreateBatch(_tenant, events, DateTimeOffset.UtcNow, default, out var taken);
        Assert.Equal(events.Length, taken);
        return message.Value;
    }

    [Fact]
    public async Task V1_records_and_v2_batches_mixed_on_the_topic_are_each_counted_once_also_when_a_batch_comes_again()
    {
        var batch = Batch(Usage("b-1", 11), Usage("b-2", 12), Usage("b-3", 13));
        // v1, a batch, v1, the same batch again (a producer's retry) and one that repeats a v1 event: each event counts once.
        await ProduceAsync(Json(Usage("j-1", 1)), batch, Json(Usage("j-2", 2)), batch, Batch(Usage("j-1", 1), Usage("b-4", 14)));

        using var consumer = Consumer();
        await consumer.StartAsync(CancellationToken.None);
        try
        {
            Assert.Equal(new Dictionary<string, decimal> { ["j-1"] = 1, ["j-2"] = 2, ["b-1"] = 11, ["b-2"] = 12, ["b-3"] = 13, ["b-4"] = 14 },
                await WaitForStoredAsync(6));
            Assert.Equal(10, consumer.Handled);
        }
        finally
        {
            await consumer.StopAsync(CancellationToken.None);
        }
        Assert.Empty(DeadLetters(atLeast: 0));
    }

    [Fact]
    public async Task A_bad_event_in_a_batch_is_dead_lettered_alone_as_its_v1_json_and_a_batch_that_cannot_be_read_whole()
    {
        var negative = Usage("negative", -5);
        var refused = Usage("refused-2", 7);
        var batch = Batch(Usage("good-0", 1), negative, Usage("good-2", 3), refused, Usage("good-4", 5));
        var unreadable = Batch(Usage("lost-0", 1), Usage("lost-1", 2))[..^3];
        await ProduceAsync(batch, unreadable, Json(Usage("after", 9)));

        using var consumer = Consumer();
        await consumer.StartAsync(CancellationToken.None);
        try
        {
            Assert.Equal(new Dictionary<string, decimal> { ["good-0"] = 1, ["good-2"] = 3, ["good-4"] = 5, ["after"] = 9 }, await WaitForStoredAsync(4));

            var letters = DeadLetters(atLeast: 3).OrderBy(l => l.Origin, StringComparer.Ordinal).ToList();
            var offsets = KafkaTopics.Usage.Name + "/";
            Assert.Collection(letters,
                l =>
                {
                    Assert.Equal((DeadLetterCauses.Invalid, "quantity must be between 0 and 1e12"), (l.Cause, l.Reason));
                    Assert.Equal(Encoding.UTF8.GetString(Json(negative)), Encoding.UTF8.GetString(l.Payload));
                    Assert.Matches(@"^metering\.usage\.v1/\d+/0#1@\d+$", l.Origin);
                },
                l =>
                {
                    Assert.Equal(DeadLetterCauses.Refused, l.Cause);
                    Assert.Contains("23514", l.Reason);
                    Assert.Equal(Encoding.UTF8.GetString(Json(refused)), Encoding.UTF8.GetString(l.Payload));
                    Assert.Matches(@"^metering\.usage\.v1/\d+/0#3@\d+$", l.Origin);
                },
                l =>
                {
                    Assert.Equal(DeadLetterCauses.Invalid, l.Cause);
                    Assert.StartsWith($"is not a valid {UsageBatchEncoding.Name} record", l.Reason);
                    Assert.Equal(Convert.ToHexString(unreadable), Convert.ToHexString(l.Payload));
                    Assert.Matches(@"^metering\.usage\.v1/\d+/1@\d+$", l.Origin);
                });
            Assert.All(letters, l => Assert.StartsWith(offsets, l.Origin));
            Assert.True(consumer.IsRunning);
        }
        finally
        {
            await consumer.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_store_failure_not_tied_to_a_record_retries_the_batch_and_dead_letters_nothing()
    {
        await ProduceAsync(Json(Usage("a", 2)), Json(Usage("b", 3)));

        using var consumer = Consumer();
        // A serialization failure, then the server shutting down: the store's trouble, not the records'.
        consumer.Failures.Enqueue(new PostgresException("could not serialize access", "ERROR", "ERROR", "40001"));
        consumer.Failures.Enqueue(new PostgresException("terminating connection due to administrator command", "FATAL", "FATAL", "57P01"));
        await consumer.StartAsync(CancellationToken.None);
        try
        {
            Assert.Equal(new Dictionary<string, decimal> { ["a"] = 2, ["b"] = 3 }, await WaitForStoredAsync(2));
            Assert.True(consumer.Attempts >= 3, $"{consumer.Attempts} attempts");
        }
        finally
        {
            await consumer.StopAsync(CancellationToken.None);
        }
        Assert.Empty(DeadLetters(atLeast: 0));
    }

    [Fact]
    public async Task The_consumer_joins_its_group_only_once_it_may_store()
    {
        await ProduceAsync(Json(Usage("early", 4)));

        using var consumer = Consumer();
        consumer.ReadyToStore = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await consumer.StartAsync(CancellationToken.None);
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(3));
            Assert.False(consumer.IsRunning);
            Assert.Equal(0, consumer.Attempts);
            Assert.Empty(await StoredAsync());

            consumer.ReadyToStore.SetResult();
            Assert.Equal(new Dictionary<string, decimal> { ["early"] = 4 }, await WaitForStoredAsync(1));
            Assert.True(consumer.IsRunning);
        }
        finally
        {
            await consumer.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>Stores each batch in one statement, as the real consumers store it in one transaction.</summary>
    private sealed class TableConsumer(IConfiguration configuration, NpgsqlDataSource database, string table, DeadLetterProducer deadLetters)
        : UsageTopicConsumer(configuration, deadLetters, TimeProvider.System, NullLogger.Instance)
    {
        private int _attempts;

        public string Group { get; } = "poison-" + Guid.NewGuid().ToString("N")[..8];
        public int Attempts => Volatile.Read(ref _attempts);

        /// <summary>Thrown by the next attempts to store, one each.</summary>
        public System.Collections.Concurrent.ConcurrentQueue<Exception> Failures { get; } = new();

        public TaskCompletionSource? ReadyToStore { get; set; }

        protected override string GroupId => Group;

        protected override Task UntilReadyToStoreAsync(CancellationToken ct) => ReadyToStore?.Task.WaitAsync(ct) ?? Task.CompletedTask;

        /// <summary>Events handed to the store, counted once per attempt that stored them.</summary>
        public int Handled => Volatile.Read(ref _handled);

        private int _handled;

        protected override async Task HandleAsync(IReadOnlyList<UsageRecord> usage, CancellationToken ct)
        {
            Interlocked.Increment(ref _attempts);
            if (Failures.TryDequeue(out var failure)) throw failure;
            await using var command = database.CreateCommand(
                $"insert into {table} (tenant, id, quantity) select * from unnest(@tenants, @ids, @quantities) on conflict do nothing");
            command.Parameters.AddWithValue("tenants", usage.Select(r => r.Usage.Tenant).ToArray());
            command.Parameters.AddWithValue("ids", usage.Select(r => r.Usage.Id).ToArray());
            command.Parameters.AddWithValue("quantities", usage.Select(r => r.Usage.Quantity).ToArray());
            await command.ExecuteNonQueryAsync(ct);
            Interlocked.Add(ref _handled, usage.Count);
        }
    }
}
