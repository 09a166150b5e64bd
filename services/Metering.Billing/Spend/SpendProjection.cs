using JasperFx.Events;
using Marten;
using Marten.Events.Projections;
using Metering.Billing.Chargeback.Teams;
using Metering.Billing.TenantMonths;
using Metering.Contracts.Usage;
using Weasel.Postgresql;
using Weasel.Postgresql.Tables;

namespace Metering.Billing.Spend;

/// <summary>
/// Usage quantities per UTC day for <c>GET /v1/spend</c>, an asynchronous projection over Billing's whole log in sequence
/// order (run by the ledger's daemon). Each usage counts on its own day (late usage of a finalized month too) for the
/// team the ledger charged it to: the team its tenant was mapped to at that point of the log; a void is taken back
/// from the team its recording was charged to. Quantities only: pricing happens when spend is read, with the rate card
/// in effect each day. The quantities are added in the daemon's transaction, with its progress, so each event counts
/// once; a rebuild empties the tables first.
/// </summary>
public sealed class SpendProjection : IProjection
{
    public const string Name = "spend";

    public static void Register(StoreOptions opts, string schema)
    {
        SpendTables.Register(opts, schema);
        opts.Schema.For<SpendBook>().Identity(b => b.Id);
        opts.Projections.Add(new SpendProjection(), JasperFx.Events.Projections.ProjectionLifecycle.Async, Name, options =>
        {
            options.DeleteViewTypeOnTeardown<SpendBook>();
            options.DeleteDataInTableOnTeardown($"{schema}.{SpendTables.Daily}");
            options.DeleteDataInTableOnTeardown($"{schema}.{SpendTables.TeamDaily}");
            options.DeleteDataInTableOnTeardown($"{schema}.{SpendTables.TenantMonthly}");
        });
    }

    public async Task ApplyAsync(IDocumentOperations operations, IReadOnlyList<IEvent> events, CancellationToken cancellation)
    {
        var book = await operations.LoadAsync<SpendBook>(SpendBook.Key, cancellation) ?? new SpendBook();
        var bookChanged = false;
        var quantities = new SpendQuantities();
        foreach (var e in events)
        {
            switch (e.Data)
            {
                case UsageBatchRecorded recorded:
                {
                    var team = book.TeamAt(recorded.Tenant, e.Sequence);
                    foreach (var total in recorded.Sums()) quantities.Add(recorded.Tenant, team, total, total.Quantity);
                    break;
                }
                case UsageVoidRecorded voided:
                {
                    var charged = await UsageRecordings.RecordingSequenceAsync(operations, e.Sequence, voided, cancellation) ?? e.Sequence;
                    quantities.Add(voided.Tenant, book.TeamAt(voided.Tenant, charged), UsageTotal.Of([voided.Usage])[0], -voided.Usage.Quantity);
                    break;
                }
                case TenantTeamAssigned assigned:
                    book.Assign(assigned.Tenant, assigned.Team, e.Sequence);
                    bookChanged = true;
                    break;
                // UnpricedUsageCarried changes nothing: that usage already counts on its own day.
            }
        }
        if (bookChanged) operations.Store(book);
        quantities.Queue(operations, operations.DocumentStore.Options.DatabaseSchemaName);
    }
}

/// <summary>
/// The tenants' team mappings as of the last event the spend projection applied, each with the sequence of the event
/// that made it, so the team at any earlier point of the log is known (a void's recording). Its own copy, not the
/// live directory, so a rebuild attributes every usage as it was the first time.
/// </summary>
public sealed class SpendBook
{
    public const string Key = "spend-book";
    public string Id { get; set; } = Key;
    public Dictionary<string, List<SpendTeamChange>> Tenants { get; set; } = new(StringComparer.Ordinal);

    public void Assign(string tenant, string team, long sequence)
    {
        if (!Tenants.TryGetValue(tenant, out var changes)) Tenants[tenant] = changes = [];
        changes.Add(new SpendTeamChange(team, sequence));
    }

    /// <summary>The team the tenant was mapped to just before the event at <paramref name="sequence"/>, else unallocated.</summary>
    public string TeamAt(string tenant, long sequence) =>
        Tenants.GetValueOrDefault(tenant)?.LastOrDefault(c => c.Sequence < sequence)?.Team ?? TeamDirectory.Unallocated;
}

public sealed record SpendTeamChange(string Team, long Sequence);

/// <summary>One daemon batch's quantities, summed per row of each table, written with one upsert per table.</summary>
internal sealed class SpendQuantities
{
    private readonly Dictionary<SpendRowKey, decimal> _rows = [];

    public void Add(string tenant, string team, UsageTotal usage, decimal quantity)
    {
        var (model, gpuType) = Meters.ItemOf(usage.Meter, usage.Model, usage.GpuType);
        var key = new SpendRowKey(usage.Day, tenant, team, usage.Meter,
            SpendTables.Stored(model), SpendTables.Stored(gpuType), SpendTables.Stored(usage.Service), SpendTables.Stored(usage.Feature));
        _rows[key] = _rows.GetValueOrDefault(key) + quantity;
    }

    public void Queue(IDocumentOperations operations, string schema)
    {
        // Rows that net to zero are written too: every key the log touched has a row however the daemon batched it, so a
        // rebuild writes the same rows.
        var rows = _rows.ToList();
        if (rows.Count == 0) return;
        operations.QueueSqlCommand($"""
            insert into {schema}.{SpendTables.Daily} as s (day, tenant, team, meter, model, gpu_type, service, feature, quantity)
            select * from unnest(?::date[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::numeric[])
            on conflict (day, tenant, team, meter, model, gpu_type, service, feature) do update set quantity = s.quantity + excluded.quantity
            """,
            rows.Select(r => r.Key.Day).ToArray(), rows.Select(r => r.Key.Tenant).ToArray(), rows.Select(r => r.Key.Team).ToArray(),
            rows.Select(r => r.Key.Meter).ToArray(), rows.Select(r => r.Key.Model).ToArray(), rows.Select(r => r.Key.GpuType).ToArray(),
            rows.Select(r => r.Key.Service).ToArray(), rows.Select(r => r.Key.Feature).ToArray(), rows.Select(r => r.Value).ToArray());

        var rollup = rows.GroupBy(r => (r.Key.Day, r.Key.Team, r.Key.Meter, r.Key.Model, r.Key.GpuType))
            .Select(g => (g.Key, Quantity: g.Sum(r => r.Value))).ToList();
        operations.QueueSqlCommand($"""
            insert into {schema}.{SpendTables.TeamDaily} as s (day, team, meter, model, gpu_type, quantity)
            select * from unnest(?::date[], ?::text[], ?::text[], ?::text[], ?::text[], ?::numeric[])
            on conflict (day, team, meter, model, gpu_type) do update set quantity = s.quantity + excluded.quantity
            """,
            rollup.Select(r => r.Key.Day).ToArray(), rollup.Select(r => r.Key.Team).ToArray(), rollup.Select(r => r.Key.Meter).ToArray(),
            rollup.Select(r => r.Key.Model).ToArray(), rollup.Select(r => r.Key.GpuType).ToArray(), rollup.Select(r => r.Quantity).ToArray());

        var months = rows.GroupBy(r => (Month: SpendTables.MonthOf(r.Key.Day), r.Key.Tenant, r.Key.Team, r.Key.Meter, r.Key.Model, r.Key.GpuType))
            .Select(g => (g.Key, Quantity: g.Sum(r => r.Value))).ToList();
        operations.QueueSqlCommand($"""
            insert into {schema}.{SpendTables.TenantMonthly} as s (month, tenant, team, meter, model, gpu_type, quantity)
            select * from unnest(?::date[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::numeric[])
            on conflict (month, tenant, team, meter, model, gpu_type) do update set quantity = s.quantity + excluded.quantity
            """,
            months.Select(r => r.Key.Month).ToArray(), months.Select(r => r.Key.Tenant).ToArray(), months.Select(r => r.Key.Team).ToArray(),
            months.Select(r => r.Key.Meter).ToArray(), months.Select(r => r.Key.Model).ToArray(), months.Select(r => r.Key.GpuType).ToArray(),
            months.Select(r => r.Quantity).ToArray());
    }

    private sealed record SpendRowKey(DateOnly Day, string Tenant, string Team, string Meter, string Model, string GpuType, string Service, string Feature);
}

/// <summary>
/// The spend tables, migrated with Billing's schema: <see cref="Daily"/> by (UTC day, tenant, team, meter, model,
/// GPU type, service, feature), indexed by (tenant, day) too, and the small rollup <see cref="TeamDaily"/> by (UTC day,
/// team, meter, model, GPU type) that answers the queries without a tenant, service or feature. A missing model, GPU
/// type, service or feature is stored as '' (key columns cannot be null) and read back as null. <see cref="TenantMonthly"/>
/// sums the fine rows per (month, dated its first day, tenant, team, meter, model, GPU type): spend by tenant and month
/// over all tenants reads it where one rate-card version prices the whole month so far (<see cref="SpendQuery"/>).
/// </summary>
public static class SpendTables
{
    public const string Daily = "spend_daily";
    public const string TeamDaily = "spend_team_daily";
    public const string TenantMonthly = "spend_tenant_monthly";

    public static DateOnly MonthOf(DateOnly day) => new(day.Year, day.Month, 1);

    public static string Stored(string? value) => value ?? "";

    public static string? Read(string value) => value.Length == 0 ? null : value;

    internal static void Register(StoreOptions opts, string schema)
    {
        var daily = new Table(new PostgresqlObjectName(schema, Daily, SchemaUtils.IdentifierUsage.General));
        daily.AddColumn("day", "date").AsPrimaryKey();
        foreach (var column in new[] { "tenant", "team", "meter", "model", "gpu_type", "service", "feature" }) daily.AddColumn<string>(column).AsPrimaryKey();
        daily.AddColumn("quantity", "numeric").NotNull();
        // One tenant's days (its spend by feature or service, a viewer's access check): without it a month of 10,000
        // tenants was a scan of every row of the month (560 ms, 2 ms with it; ./metering bench spend).
        daily.Indexes.Add(new IndexDefinition("ix_spend_daily_tenant_day") { Columns = ["tenant", "day"] });
        opts.Storage.ExtendedSchemaObjects.Add(daily);

        var teamDaily = new Table(new PostgresqlObjectName(schema, TeamDaily, SchemaUtils.IdentifierUsage.General));
        teamDaily.AddColumn("day", "date").AsPrimaryKey();
        foreach (var column in new[] { "team", "meter", "model", "gpu_type" }) teamDaily.AddColumn<string>(column).AsPrimaryKey();
        teamDaily.AddColumn("quantity", "numeric").NotNull();
        opts.Storage.ExtendedSchemaObjects.Add(teamDaily);

        var tenantMonthly = new BackfilledTable(new PostgresqlObjectName(schema, TenantMonthly, SchemaUtils.IdentifierUsage.General), $"""
            insert into {schema}.{TenantMonthly} (month, tenant, team, meter, model, gpu_type, quantity)
            select date_trunc('month', day)::date, tenant, team, meter, model, gpu_type, sum(quantity) from {schema}.{Daily}
            group by 1, 2, 3, 4, 5, 6;
            """);
        tenantMonthly.AddColumn("month", "date").AsPrimaryKey();
        foreach (var column in new[] { "tenant", "team", "meter", "model", "gpu_type" }) tenantMonthly.AddColumn<string>(column).AsPrimaryKey();
        tenantMonthly.AddColumn("quantity", "numeric").NotNull();
        opts.Storage.ExtendedSchemaObjects.Add(tenantMonthly);
    }
}
