using Metering.Budgets.Authorizing;
using Metering.Budgets.Broadcast;
using Metering.Budgets.Clustering;
using Metering.Budgets.Corrections;
using Metering.Budgets.Diagnostics;
using Metering.Budgets.Pricing;
using Metering.Budgets.Quotas;
using Metering.Budgets.Reading;
using Metering.Budgets.Tracking;
using Metering.Budgets.Usage;
using Metering.ServiceDefaults;
using Metering.UsageTopic;
using Npgsql;
using Orleans.Serialization;

var builder = WebApplication.CreateBuilder(args);
builder.AddMeteringDefaults("metering-budgets", defaultPort: 5081);

builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton(_ => NpgsqlDataSource.Create(MeteringSettings.Postgres(builder.Configuration)));
builder.Services.AddSingleton<BudgetStore>();
builder.Services.AddSingleton<QuotaStore>();
builder.Services.AddSingleton<BudgetBroadcast>();
builder.Services.AddSingleton<RateCards>();
builder.Services.AddHostedService<RateCardFeed>();
builder.Services.AddHostedService<BudgetSchemaMigration>();
builder.Services.AddHostedService<MembershipSchemaMigration>();
// Hosted services start in registration order: schemas, then the silo, then the consumer that calls grains.
builder.UseOrleans(silo =>
{
    silo.UsePostgresClustering(builder.Configuration);
    // The API records of contracts/ carry no Orleans attributes (it stays free of infrastructure): grains pass them as JSON.
    silo.Services.AddSerializer(serializer => serializer.AddJsonSerializer(
        isSupported: type => type.Namespace?.StartsWith("Metering.Contracts", StringComparison.Ordinal) == true,
        jsonSerializerOptions: Metering.Contracts.MeteringJson.Create()));
});
builder.Services.AddUsageTopicConsumer<UsageConsumer>();
builder.Services.AddReceiptPruning<BudgetStore>();
builder.Services.AddHostedService<CorrectionConsumer>();

var app = builder.Build();
app.MapMeteringDefaults();
app.MapGetBudget();
app.MapQuotas();
app.MapAuthorize();
app.MapMemoryDiagnostics();
app.Run();

/// <summary>Creates the budgets schema before the silo and the consumer start.</summary>
internal sealed class BudgetSchemaMigration(BudgetStore store) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => store.MigrateAsync(cancellationToken);
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

public partial class Program;
