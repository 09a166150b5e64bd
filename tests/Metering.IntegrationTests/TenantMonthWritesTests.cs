namespace Metering.IntegrationTests;

/// <summary>Tenant-month reads and appends through the <see cref="BillingWriter"/> against a real PostgreSQL, in a schema of its own that it removes afterwards.</summary>
public sealed class TenantMonthWritesTests() : BillingStorageTests("tenant_month_tests")
{
    private readonly string _tenant = TestInfrastructure.UniqueTenant("tmonth");
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    private UsageEvent Usage(string id) => new(id, _tenant, Meters.InputTokens, 5, Now, "m");

    private RecordedUsage Recorded(string id) => RecordedUsage.From(Usage(id));

    private async Task<UsageRecording?> RecordingOf(string id)
    {
        await using var write = await new BillingWriter(Billing.Store, Billing.Database).BeginTenantMonthsAsync([_tenant], CancellationToken.None);
        return await write.RecordingOfAsync(_tenant, id, CancellationToken.None);
    }

    private async Task<long> AppendAsync(UsageBatchRecorded recorded)
    {
        var stream = BillingPeriod.UsageStream(recorded.Tenant, recorded.Month);
        var appended = Assert.Single(await Billing.AppendAsync(stream, recorded));
        return (await Billing.Store.QuerySession().Events.FetchStreamAsync(stream)).Single(e => e.Id == appended.Id).Sequence;
    }

    /// <summary>The sequence of the batch event that recorded the usage, the one its receipt names.</summary>
    private async Task<long> SequenceOf(string id)
    {
        await using var command = Billing.Database.DataSource.CreateCommand(
            $"select e.seq_id from {Billing.Name}.{BillingStore.UsageReceipts} r join {Billing.Name}.mt_events e on e.id = r.event_id where r.usage_key = $1");
        command.Parameters.AddWithValue(UsageKey.Of(_tenant, id));
        return (long)(await command.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task The_recorders_receipt_names_the_event_that_recorded_its_usage()
    {
        await new UsageRecorder(Billing.Store, Billing.Database).RecordAsync([Usage("direct")], CancellationToken.None);
        var sequence = await SequenceOf("direct");

        var recording = (await RecordingOf("direct"))!;
        Assert.Equal(Recorded("direct"), recording.Usage);
        Assert.Equal(1, Assert.Single(recording.Batch.Sums()).Count);
        await using var session = Billing.Store.LightweightSession();
        var voided = new UsageVoidRecorded(_tenant, BillingPeriod.Of(Now), Recorded("direct"), null, "test", Now, "admin");
        Assert.Equal(sequence, await UsageRecordings.RecordingSequenceAsync(session, sequence + 1, voided, CancellationToken.None));
        // A recording after the void is not the one it voided.
        Assert.Null(await UsageRecordings.RecordingSequenceAsync(session, sequence, voided, CancellationToken.None));
    }

    [Fact]
    public async Task A_void_finds_the_event_that_recorded_its_usage_through_its_receipt()
    {
        var recorder = new UsageRecorder(Billing.Store, Billing.Database);
        await recorder.RecordAsync([Usage("a"), Usage("b")], CancellationToken.None);
        await recorder.RecordAsync([Usage("c"), Usage("a")], CancellationToken.None);

        Assert.Equal(Recorded("b"), (await RecordingOf("b"))!.Usage);
        Assert.Equal(Recorded("a"), (await RecordingOf("a"))!.Usage);
        Assert.Equal(Recorded("c"), (await RecordingOf("c"))!.Usage);
        // The redelivered "a" was not recorded again: it stays in the first batch, beside "b".
        Assert.Equal(await SequenceOf("b"), await SequenceOf("a"));
        Assert.NotEqual(await SequenceOf("a"), await SequenceOf("c"));
        Assert.Equal(2, Assert.Single((await RecordingOf("a"))!.Batch.Sums()).Count);
        Assert.Equal(1, Assert.Single((await RecordingOf("c"))!.Batch.Sums()).Count);
        Assert.Null(await RecordingOf("never"));
    }

    [Fact]
    public async Task Recordings_stored_before_any_index_of_them_existed_are_entered_by_the_migration_once()
    {
        var first = await AppendAsync(new UsageBatchRecorded(_tenant, BillingPeriod.Of(Now), [Recorded("old-1"), Recorded("old/2")]));
        await AppendAsync(new UsageBatchRecorded(_tenant, BillingPeriod.Of(Now), [Recorded("old-3")]));
        // As in a store written before recordings were kept: one receipt still there without its event, two pruned.
        Assert.Equal(3, await Billing.ExecuteAsync($"update {Billing.Name}.{BillingStore.UsageReceipts} set event_id = null"));
        Assert.Equal(2, await Billing.ExecuteAsync($"delete from {Billing.Name}.{BillingStore.UsageReceipts} where usage_key <> '{UsageKey.Of(_tenant, "old-1")}'"));
        Assert.Null(await RecordingOf("old-1"));

        Assert.Equal(3, await UsageRecordings.MigrateAsync(Billing.Store, Billing.Database, CancellationToken.None));

        // The keys the migration computed in SQL are UsageKey's: the writer finds every one of them.
        Assert.Equal(Recorded("old/2"), (await RecordingOf("old/2"))!.Usage);
        Assert.Equal(["old-1", "old/2"], (await RecordingOf("old/2"))!.Batch.Usage.Select(u => u.Id));
        Assert.Equal(Recorded("old-3"), (await RecordingOf("old-3"))!.Usage);
        await using (var session = Billing.Store.LightweightSession())
            Assert.Equal(first, await UsageRecordings.RecordingSequenceAsync(session, long.MaxValue,
                new UsageVoidRecorded(_tenant, BillingPeriod.Of(Now), Recorded("old-1"), null, "test", Now, "admin"), CancellationToken.None));
        Assert.Equal(0, await UsageRecordings.MigrateAsync(Billing.Store, Billing.Database, CancellationToken.None));
        // The receipts the migration brought back recognise a re-send.
        Assert.Equal(0, await new UsageRecorder(Billing.Store, Billing.Database).RecordAsync([Usage("old-3")], CancellationToken.None));
    }

    [Fact]
    public async Task A_store_that_kept_recordings_in_a_table_of_their_own_has_them_moved_into_its_receipts_by_the_migration()
    {
        var recorder = new UsageRecorder(Billing.Store, Billing.Database);
        // Recorded by that release: batch events listing their usage.
        var first = await AppendAsync(new UsageBatchRecorded(_tenant, BillingPeriod.Of(Now), [Recorded("kept"), Recorded("pruned"), Recorded("again")]));
        // "again" re-sent after its receipt was pruned: recorded a second time.
        await Billing.ExecuteAsync($"delete from {Billing.Name}.{BillingStore.UsageReceipts} where usage_key = '{UsageKey.Of(_tenant, "again")}'");
        await AppendAsync(new UsageBatchRecorded(_tenant, BillingPeriod.Of(Now), [Recorded("again")]));
        // The layout of the release before: usage_recordings (usage key → the first event that recorded it) beside
        // receipts that named no event and were pruned after 63 days.
        var kept = $"(select event_id from {Billing.Name}.{BillingStore.UsageReceipts} where usage_key = '{UsageKey.Of(_tenant, "kept")}')";
        await Billing.ExecuteAsync($"""
            create table {Billing.Name}.{UsageRecordings.FormerTable} (usage_key uuid primary key, event_id uuid not null);
            insert into {Billing.Name}.{UsageRecordings.FormerTable} select usage_key, {kept} from {Billing.Name}.{BillingStore.UsageReceipts};
            delete from {Billing.Name}.{BillingStore.UsageReceipts} where usage_key = '{UsageKey.Of(_tenant, "pruned")}';
            update {Billing.Name}.{BillingStore.UsageReceipts} set event_id = null;
            """);
        Assert.Null(await RecordingOf("kept"));

        Assert.Equal(3, await UsageRecordings.MigrateAsync(Billing.Store, Billing.Database, CancellationToken.None));

        Assert.Equal(["kept", "pruned", "again"], (await RecordingOf("pruned"))!.Batch.Usage.Select(u => u.Id));
        Assert.Equal(["kept", "pruned", "again"], (await RecordingOf("again"))!.Batch.Usage.Select(u => u.Id)); // the first recording won
        Assert.Equal(Recorded("again"), (await RecordingOf("again"))!.Usage);
        await using (var session = Billing.Store.LightweightSession())
            Assert.Equal(first, await UsageRecordings.RecordingSequenceAsync(session, long.MaxValue,
                new UsageVoidRecorded(_tenant, BillingPeriod.Of(Now), Recorded("again"), null, "test", Now, "admin"), CancellationToken.None));
        await using (var table = Billing.Database.DataSource.CreateCommand($"select to_regclass('{Billing.Name}.{UsageRecordings.FormerTable}')::text"))
            Assert.Equal(DBNull.Value, await table.ExecuteScalarAsync());
        // The pruned receipt is back: a re-send of that usage counts once.
        Assert.Equal(0, await recorder.RecordAsync([Usage("pruned")], CancellationToken.None));
        Assert.Equal(0, await UsageRecordings.MigrateAsync(Billing.Store, Billing.Database, CancellationToken.None));
    }

    [Fact]
    public async Task Events_stored_under_the_dotnet_names_they_had_before_the_move_still_read()
    {
        var month = BillingPeriod.Of(Now);
        await AppendAsync(new UsageBatchRecorded(_tenant, month, [Recorded("a")]));
        await using (var command = Billing.Database.DataSource.CreateCommand(
            $"update {Billing.Store.Options.Events.DatabaseSchemaName}.mt_events set mt_dotnet_type = 'Metering.Billing.Recording.UsageBatchRecorded, Metering.Billing'"))
            Assert.Equal(1, await command.ExecuteNonQueryAsync());

        await using var query = Billing.Store.QuerySession();
        var recorded = Assert.IsType<UsageBatchRecorded>(Assert.Single(await query.Events.FetchStreamAsync(BillingPeriod.UsageStream(_tenant, month))).Data);
        Assert.Equal("a", Assert.Single(recorded.Usage).Id);
        await using var stored = Billing.Database.DataSource.CreateCommand($"select type from {Billing.Store.Options.Events.DatabaseSchemaName}.mt_events");
        Assert.Equal(TenantMonthStore.UsageBatchRecordedName, await stored.ExecuteScalarAsync());
    }
}
