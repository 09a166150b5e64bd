using Metering.Budgets.Authorization;
using Metering.Budgets.Broadcast;
using Metering.Budgets.Clustering;
using Metering.Budgets.Corrections;
using Metering.Budgets.Diagnostics;
using Metering.Budgets.Lists;
using Metering.Budgets.RateCards;
using Metering.Budgets.Quotas;
using Metering.Budgets.TenantBudgets;
using Metering.Budgets.Usage;
using Metering.UsageTopic;

if (args is ["migrate", ..])
{
    // Metering.Budgets migrate: create or update the budgets schema (tables and cluster membership), then exit.
    var configuration = new ConfigurationBuilder().AddEnvironmentVariables().Build();
    await using var dataSource = NpgsqlDataSource.Create(MeteringSettings.Postgres(configuration));
    await new BudgetStore(dataSource).MigrateAsync(CancellationToken.None);
    await MembershipSchema.MigrateAsync(dataSource, CancellationToken.None);
    Console.WriteLine("The budgets schema is up to date.");
    return;
}

var builder = MeteringDefaults.CreateBuilder(args);
builder.AddMeteringDefaults("metering-budgets", defaultPort: 5081, defaultManagementPort: 5091);
var migrate = MeteringSettings.Migrate(builder.Configuration, builder.Environment.IsDevelopment());

builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton(_ => NpgsqlDataSource.Create(MeteringSettings.Postgres(builder.Configuration)));
builder.Services.AddSingleton<BudgetStore>();
builder.Services.AddSingleton<QuotaStore>();
builder.Services.AddSingleton<BudgetBroadcast>();
builder.Services.AddRateCardFeed();
if (migrate)
{
    builder.Services.AddHostedService<BudgetSchemaMigration>();
    builder.Services.AddHostedService<MembershipSchemaMigration>();
}
else builder.Services.AddHostedService<BudgetSchemaCheck>();
// Hosted services start in registration order: schemas, then the silo, then the consumer that calls grains.
builder.UseOrleans(silo =>
{
    silo.UsePostgresClustering(builder.Configuration);
    silo.UseSiloTls(builder.Configuration, builder.Environment.IsDevelopment());
    silo.AddBudgetGrains();
});
builder.Services.AddUsageTopicConsumer<UsageConsumer>();
builder.Services.AddReceiptPruning<BudgetStore>();
builder.Services.AddHostedService<CorrectionConsumer>();
builder.Services.AddBudgetsReadiness();

var app = builder.Build();
app.MapMeteringDefaults();
app.MapGetBudget();
app.MapPutQuota();
app.MapGetQuotaHistory();
app.MapAuthorize();
app.MapListTenants();
app.MapCountTenants();
app.MapListAlerts();
app.MapGetMemoryDiagnostics();
app.Run();

/// <summary>Creates the budgets schema before the silo and the consumer start.</summary>
internal sealed class BudgetSchemaMigration(BudgetStore store) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => store.MigrateAsync(cancellationToken);
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Not told to migrate: refuse to start, with what to do, when a table is missing.</summary>
internal sealed class BudgetSchemaCheck(NpgsqlDataSource dataSource) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("select t from unnest(@tables) t where to_regclass(t) is null");
        command.Parameters.AddWithValue("tables", BudgetStore.Tables.Append(MembershipSchema.Versions).Append(MembershipSchema.Silos).ToArray());
        var missing = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            while (await reader.ReadAsync(cancellationToken)) missing.Add(reader.GetString(0));
        if (missing.Count > 0)
            throw new InvalidOperationException(MeteringSettings.MissingSchema("Budgets", "missing " + string.Join(", ", missing)));
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

public partial class Program;
