using Metering.Billing;
using Metering.Billing.Chargeback.Capacity;
using Metering.Billing.Chargeback.Reconciliation;
using Metering.Billing.Chargeback.Statements;
using Metering.Billing.Corrections;
using Metering.Billing.Forecast;
using Metering.Billing.Invoices;
using Metering.Billing.Usage;
using Metering.Billing.Spend;
using Metering.Contracts;
using Metering.UsageTopic;
using Wolverine;
using Wolverine.Kafka;
using Wolverine.Marten;

// Billing's commands beside the service (rebuild, migrate, --help): see BillingCommands. Any other command line (none, or
// the host's own --key value configuration) starts the service.
if (BillingCommands.IsCommandLine(args) && BillingCommands.Parse(args) is { Action: not null } command)
{
    Environment.ExitCode = await command.InvokeAsync();
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
    builder.Services.AddHostedService<UsageRecordingsMigration>();
    builder.Services.AddHostedService<Metering.Billing.Chargeback.Teams.StoredTeamsProjection>();
}
else builder.Services.AddHostedService<BillingSchemaCheck>();
builder.Services.AddSingleton<BillingWriter>();
builder.Services.AddSingleton<UsageRecorder>();
builder.Services.AddSingleton<SpendQuery>();
if (!migrateOnly)
{
    // The chargeback ledger is posted asynchronously; with several Billing instances one of them runs it.
    builder.Services.AddHostedService<Metering.Billing.Chargeback.Ledger.LedgerDaemon>();
    builder.Services.AddUsageTopicConsumer<UsageConsumer>();
    builder.Services.AddHostedService<DeadLetterLedger>();
}
// Wolverine carries Billing's integration messages (rate cards, voided usage) through its Marten outbox to Kafka. The usage topic does not go through Wolverine: see Recording/UsageConsumer.cs.
// Neither do dead letters: they must be acknowledged before a usage batch's offsets are committed, and Budgets, which runs no Wolverine, publishes them too (UsageTopic's DeadLetterProducer over Metering.Kafka's IdempotentProducer).
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
app.MapPutRateCard();
app.MapGetRateCard();
app.MapPutTeam();
app.MapGetTeams();
app.MapPutTenantTeam();
app.MapGetTenantTeam();
app.MapPutCapacityCost();
app.MapGetChargeback();
app.MapGetReconciliation();
app.MapGetSpend();
app.MapGetForecast();
app.Run();

public partial class Program;
