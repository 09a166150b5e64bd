using Marten;
using Metering.Billing;
using Metering.Billing.Chargeback.Capacity;
using Metering.Billing.Chargeback.Reconciliation;
using Metering.Billing.Chargeback.Statements;
using Metering.Billing.Chargeback.Teams;
using Metering.Billing.Corrections;
using Metering.Billing.Forecast;
using Metering.Billing.Invoicing;
using Metering.Billing.Recording;
using Metering.Billing.Pricing;
using Metering.Billing.Spend;
using Metering.Billing.TenantMonths;
using Metering.Contracts;
using Metering.Contracts.Billing;
using Metering.ServiceDefaults;
using Metering.UsageTopic;
using Wolverine;
using Wolverine.Kafka;
using Wolverine.Marten;

if (args is ["rebuild", ..])
{
    // Metering.Billing rebuild: every projection from the event store, then exit. Stop Billing's consumers first.
    using var loggers = LoggerFactory.Create(logging => logging.AddSimpleConsole());
    var configuration = new ConfigurationBuilder().AddEnvironmentVariables().Build();
    using var store = DocumentStore.For(opts => BillingStore.Configure(opts, MeteringSettings.Postgres(configuration)));
    await Metering.Billing.Rebuilding.ProjectionRebuild.RunAsync(store, loggers.CreateLogger("rebuild"), CancellationToken.None);
    return;
}

if (args is ["bench", ..])
{
    // Metering.Billing bench [EVENTS] [RESULTS-FOLDER]: see BillingBenchmark.
    var configuration = new ConfigurationBuilder().AddEnvironmentVariables().Build();
    var events = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 1_000_000;
    var report = await Metering.Billing.Benchmarking.BillingBenchmark.RunAsync(MeteringSettings.Postgres(configuration), events, CancellationToken.None);
    await WriteReportAsync(report, args.Length > 2 ? args[2] : null, "billing");
    return;
}

if (args is ["backtest", ..])
{
    // Metering.Billing backtest [RESULTS-FOLDER]: the spend forecast's backtest over the store's recorded spend (see SpendBacktest).
    var configuration = new ConfigurationBuilder().AddEnvironmentVariables().Build();
    var connection = MeteringSettings.Postgres(configuration);
    using var store = DocumentStore.For(opts => BillingStore.Configure(opts, connection));
    await using var dataSource = Npgsql.NpgsqlDataSource.Create(connection);
    string report;
    try
    {
        report = await SpendBacktest.RunAsync(store, new SpendQuery(store, new BillingDatabase(dataSource)), DateTimeOffset.UtcNow, CancellationToken.None);
    }
    catch (Npgsql.PostgresException e) when (e.SqlState == Npgsql.PostgresErrorCodes.UndefinedTable)
    {
        Console.Error.WriteLine($"This database has no Billing schema with spend tables ({e.MessageText}): run `Metering.Billing migrate` and Billing first.");
        Environment.ExitCode = 1;
        return;
    }
    await WriteReportAsync(report, args.Length > 1 ? args[1] : null, "forecast-store");
    return;
}

if (args is ["bench-spend", ..])
{
    // Metering.Billing bench-spend [TENANTS] [EVENTS] [RESULTS-FOLDER] [--keep]: see SpendBenchmark. --keep leaves its schema
    // in the database, to try query plans on.
    var configuration = new ConfigurationBuilder().AddEnvironmentVariables().Build();
    var positional = args.Where(a => a != "--keep").ToArray();
    var tenants = positional.Length > 1 ? int.Parse(positional[1], System.Globalization.CultureInfo.InvariantCulture) : 10_000;
    var events = positional.Length > 2 ? int.Parse(positional[2], System.Globalization.CultureInfo.InvariantCulture) : 10_000_000;
    var report = await Metering.Billing.Benchmarking.SpendBenchmark.RunAsync(MeteringSettings.Postgres(configuration),
        new Metering.Billing.Benchmarking.SpendBenchmarkOptions(tenants, events, KeepSchema: args.Contains("--keep")), CancellationToken.None);
    await WriteReportAsync(report, positional.Length > 3 ? positional[3] : null, "spend");
    return;
}

// Metering.Billing migrate: create or update Billing's schema (event store, documents, outbox), then exit.
var migrateOnly = args is ["migrate", ..];
var builder = MeteringDefaults.CreateBuilder(migrateOnly ? args[1..] : args);
builder.AddMeteringDefaults("metering-billing", defaultPort: 5082, defaultManagementPort: 5092);
var migrate = migrateOnly || MeteringSettings.Migrate(builder.Configuration, builder.Environment.IsDevelopment());
if (migrateOnly) builder.WebHost.UseUrls("http://127.0.0.1:0");

builder.Services.AddSingleton(TimeProvider.System);
var postgres = MeteringSettings.Postgres(builder.Configuration);
builder.Services.AddSingleton(new BillingDatabase(Npgsql.NpgsqlDataSource.Create(postgres)));
var marten = builder.Services.AddMarten(opts =>
    {
        BillingStore.Configure(opts, postgres);
        if (!migrate) opts.AutoCreateSchemaObjects = JasperFx.AutoCreate.None;
    })
    // Wolverine's outbox lives in the same schema: a message commits with the events that caused it.
    .IntegrateWithWolverine(wolverine => wolverine.MessageStorageSchemaName = BillingStore.Schema);
if (migrate)
{
    marten.ApplyAllDatabaseChangesOnStartup();
    builder.Services.AddHostedService<UsageRecordingsBackfill>();
}
else builder.Services.AddHostedService<BillingSchemaCheck>();
builder.Services.AddSingleton<TenantMonthWriter>();
builder.Services.AddSingleton<UsageRecorder>();
builder.Services.AddSingleton<SpendQuery>();
if (!migrateOnly)
{
    // The chargeback ledger is posted asynchronously; with several Billing instances one of them runs it.
    builder.Services.AddHostedService<Metering.Billing.Chargeback.Ledger.LedgerDaemon>();
    builder.Services.AddUsageTopicConsumer<UsageConsumer>();
    builder.Services.AddHostedService<DeadLetterLedger>();
    builder.Services.AddReceiptPruning<UsageRecorder>();
}
// Wolverine carries Billing's integration messages (rate cards, voided usage) through its Marten outbox to Kafka. The usage topic does not go through Wolverine: see Recording/UsageConsumer.cs.
builder.Host.UseWolverine(opts =>
{
    opts.ServiceName = "metering-billing";
    opts.AutoBuildMessageStorageOnStartup = migrate ? JasperFx.AutoCreate.CreateOrUpdate : JasperFx.AutoCreate.None;
    opts.UseRuntimeCompilation();
    opts.UseKafka(MeteringSettings.KafkaBootstrapServers(builder.Configuration))
        .ConfigureProducers(p =>
        {
            p.ClientId = "metering-billing-outbox";
            p.EnableIdempotence = true;
            p.Acks = Confluent.Kafka.Acks.All;
        });
    opts.PublishMessage<RateCardPublished>().ToKafkaTopic(KafkaTopics.RateCards.Name).PublishRawJson(MeteringJson.Create());
    opts.PublishMessage<UsageVoided>().ToKafkaTopic(KafkaTopics.UsageCorrections.Name).PublishRawJson(MeteringJson.Create());
    opts.Policies.UseDurableOutboxOnAllSendingEndpoints();
    opts.Policies.AutoApplyTransactions();
});
builder.Services.AddHealthChecks().AddCheck<BillingReadiness>("billing", tags: [MeteringDefaults.ReadyTag]);

var app = builder.Build();
if (migrateOnly)
{
    await app.StartAsync();
    await app.StopAsync();
    Console.WriteLine("Billing's schema is up to date.");
    return;
}
app.MapMeteringDefaults();
app.MapGetInvoice();
app.MapListInvoices();
app.MapFinalizeInvoice();
app.MapGetInvoiceUsage();
app.MapVoidUsage();
app.MapRateCard();
app.MapTeams();
app.MapCapacityCost();
app.MapGetChargeback();
app.MapGetReconciliation();
app.MapGetSpend();
app.MapGetForecast();
app.Run();

// A command's report: printed, and written to FOLDER (default .metering/bench) as NAME-<UTC time>.txt.
static async Task WriteReportAsync(string report, string? folder, string name)
{
    Console.WriteLine(report);
    folder ??= Path.Combine(".metering", "bench");
    Directory.CreateDirectory(folder);
    var file = Path.Combine(folder, $"{name}-{DateTime.UtcNow:yyyyMMdd-HHmmss}.txt");
    await File.WriteAllTextAsync(file, report + Environment.NewLine);
    Console.WriteLine($"results written to {file}");
}

public partial class Program;
