using Marten;
using Metering.Billing;
using Metering.Billing.Invoicing;
using Metering.Billing.Recording;
using Metering.ServiceDefaults;
using Metering.UsageTopic;

var builder = WebApplication.CreateBuilder(args);
builder.AddMeteringDefaults("metering-billing", defaultPort: 5082);

builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton<DeadLetterProducer>();
var postgres = MeteringSettings.Postgres(builder.Configuration);
builder.Services.AddSingleton(new BillingDatabase(Npgsql.NpgsqlDataSource.Create(postgres)));
builder.Services.AddMarten(opts => BillingStore.Configure(opts, postgres)).ApplyAllDatabaseChangesOnStartup();
builder.Services.AddSingleton<UsageRecorder>();
builder.Services.AddUsageTopicConsumer<UsageConsumer>();
builder.Services.AddReceiptPruning<UsageRecorder>();
builder.Services.AddHealthChecks().AddCheck<BillingReadiness>("billing", tags: [MeteringDefaults.ReadyTag]);

var app = builder.Build();
app.MapMeteringDefaults();
app.MapGetInvoice();
app.Run();

public partial class Program;
