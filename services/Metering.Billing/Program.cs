using Marten;
using Metering.Billing;
using Metering.Billing.Invoicing;
using Metering.Billing.Recording;
using Metering.Contracts;
using Metering.Contracts.Usage;
using Metering.ServiceDefaults;
using Wolverine;
using Wolverine.ErrorHandling;
using Wolverine.Kafka;
using Wolverine.Marten;

var builder = WebApplication.CreateBuilder(args);
builder.AddMeteringDefaults("metering-billing", defaultPort: 5082);

builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton<DeadLetterProducer>();
var postgres = MeteringSettings.Postgres(builder.Configuration);
builder.Services.AddSingleton(new BillingDatabase(Npgsql.NpgsqlDataSource.Create(postgres)));
builder.Services.AddMarten(opts => BillingStore.Configure(opts, postgres)).ApplyAllDatabaseChangesOnStartup()
    // Wolverine's durable inbox: a usage record's Kafka offset is committed only once it is stored in PostgreSQL,
    // and it leaves the inbox only when the batch that holds it has been recorded.
    .IntegrateWithWolverine();

builder.Host.UseWolverine(opts =>
{
    opts.ServiceName = "metering-billing";
    opts.UseRuntimeCompilation();
    opts.UseKafka(MeteringSettings.KafkaBootstrapServers(builder.Configuration))
        .ConfigureConsumers(c =>
        {
            c.GroupId = builder.Configuration["METERING_BILLING_GROUP_ID"] ?? "metering-billing";
            c.ClientId = "metering-billing";
        })
        .BeginAtEarliest()
        .ConsumeOnly();
    opts.ListenToKafkaTopic(KafkaTopics.Usage.Name)
        .DefaultIncomingMessage<UsageEvent>()
        .UseInterop((runtime, _) => new UsageEnvelopeMapper(runtime.Services.GetRequiredService<TimeProvider>()))
        .UseDurableInbox()
        .MaximumMessagesToReceive(1000)
        .ExternallyOwned();
    // One batch at a time: parallel batches would race to create the same tenant-month stream.
    opts.BatchMessagesOf<UsageEvent>(batching =>
    {
        batching.BatchSize = 1000;
        batching.TriggerTime = TimeSpan.FromMilliseconds(50);
    }).Sequential();
    // A batch that fails (a race with another instance during a rebalance, PostgreSQL unavailable) is retried, never
    // parked in an error queue: its receipts make the retry count only what is not recorded yet.
    opts.Policies.OnAnyException()
        .RetryWithCooldown(TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2))
        .Then.PauseThenRequeue(TimeSpan.FromSeconds(5));
});
builder.Services.AddHealthChecks().AddCheck<BillingReadiness>("billing", tags: [MeteringDefaults.ReadyTag]);

var app = builder.Build();
app.MapMeteringDefaults();
app.MapGetInvoice();
app.Run();

public partial class Program;
