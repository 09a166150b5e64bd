
namespace Metering.IntegrationTests;

/// <summary>
/// Billing's count of dead letters (<see cref="DeadLetterLedger"/>) following the dead-letter topic of a development
/// broker of its own, into a Billing schema of its own.
/// </summary>
public sealed class DeadLetterLedgerTests() : BillingStorageTests("dead_letter_tests")
{
    private readonly string _tenant = TestInfrastructure.UniqueTenant("dead");
    private DevKafkaProcess _kafka = null!;
    private IConfiguration _configuration = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _kafka = await DevKafkaProcess.StartAsync();
        _configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["KAFKA_BOOTSTRAP_SERVERS"] = _kafka.BootstrapServers,
            ["METERING_BILLING_GROUP_ID"] = "ledger-" + Guid.NewGuid().ToString("N")[..8],
        }).Build();
    }

    public override async Task DisposeAsync()
    {
        await _kafka.DisposeAsync();
        await base.DisposeAsync();
    }

    private RejectedRecord Record(long offset, string reason, DeadLetterCause cause = DeadLetterCause.Invalid, string? key = null) =>
        new(key ?? _tenant, "{}"u8.ToArray(), reason, new TopicPartitionOffset(KafkaTopics.Usage.Name, 3, offset), DateTimeOffset.UtcNow, cause);

    private async Task<List<(string Origin, string? Key, string Reason, string Cause, string[] Groups)>> RowsAsync()
    {
        await using var command = Billing.Database.DataSource.CreateCommand(
            $"select origin, record_key, reason, cause, groups from {Billing.Store.Options.DatabaseSchemaName}.{BillingStore.DeadLetters} order by origin");
        var rows = new List<(string, string?, string, string, string[])>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            rows.Add((reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetFieldValue<string[]>(4)));
        return rows;
    }

    [Fact]
    public async Task Each_dead_letter_is_counted_once_whichever_groups_published_it_and_a_record_that_is_not_one_is_passed_over()
    {
        var invalid = Record(100, "quantity must be between 0 and 1e12");
        var refusedByBudgets = Record(101, "the store refused it: 22021 invalid byte sequence", DeadLetterCause.Refused);
        var unstorable = Record(102, "attributes.a\0b value must be a string", key: "bad\0key");
        var legacy = Record(103, "$ is not valid JSON");
        using (var deadLetters = new DeadLetterProducer(_configuration))
        {
            // Both groups set the invalid record apart, and Billing again after a redelivery; only Budgets' store refused the other.
            await deadLetters.PublishAsync(invalid, "metering-billing", CancellationToken.None);
            await deadLetters.PublishAsync(invalid, "metering-budgets", CancellationToken.None);
            await deadLetters.PublishAsync(invalid, "metering-billing", CancellationToken.None);
            await deadLetters.PublishAsync(refusedByBudgets, "metering-budgets", CancellationToken.None);
            // A record PostgreSQL text could not hold as it is (U+0000 in its key and in the field its reason names).
            await deadLetters.PublishAsync(unstorable, "metering-billing", CancellationToken.None);
        }
        using (var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = _kafka.BootstrapServers }).Build())
        {
            // Not one of Metering's dead letters (no origin header), then one written before the group and cause headers existed.
            await producer.ProduceAsync(KafkaTopics.UsageDeadLetters.Name, new Message<string, byte[]> { Key = _tenant, Value = "stray"u8.ToArray() });
            await producer.ProduceAsync(KafkaTopics.UsageDeadLetters.Name, new Message<string, byte[]>
            {
                Key = _tenant,
                Value = legacy.Payload,
                Headers = new Headers
                {
                    { DeadLetterProducer.ReasonHeader, Encoding.UTF8.GetBytes(legacy.Reason) },
                    { DeadLetterProducer.OriginHeader, Encoding.UTF8.GetBytes(DeadLetterProducer.OriginOf(legacy)) },
                },
            });
        }

        using var ledger = new DeadLetterLedger(_configuration, Billing.Store, Billing.Database, NullLogger<DeadLetterLedger>.Instance);
        await ledger.StartAsync(CancellationToken.None);
        var rows = await RowsAsync();
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (rows.Count < 4 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
                rows = await RowsAsync();
            }
            // Nothing more arrives: the stray record was passed over, not stored.
            await Task.Delay(1000);
            rows = await RowsAsync();
        }
        finally
        {
            await ledger.StopAsync(CancellationToken.None);
        }

        Assert.Collection(rows,
            r => Assert.Equal((DeadLetterProducer.OriginOf(invalid), DeadLetterCauses.Invalid, "metering-billing,metering-budgets"), (r.Origin, r.Cause, string.Join(',', r.Groups))),
            r => Assert.Equal((DeadLetterProducer.OriginOf(refusedByBudgets), DeadLetterCauses.Refused, "metering-budgets"), (r.Origin, r.Cause, string.Join(',', r.Groups))),
            r => Assert.Equal((DeadLetterProducer.OriginOf(unstorable), "bad\uFFFDkey", "attributes.a\uFFFDb value must be a string"), (r.Origin, r.Key, r.Reason)),
            r => Assert.Equal((DeadLetterProducer.OriginOf(legacy), DeadLetterCauses.Invalid, ""), (r.Origin, r.Cause, string.Join(',', r.Groups))));
    }
}
