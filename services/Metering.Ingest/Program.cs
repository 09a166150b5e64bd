using Metering.Ingest.Usage;
using Metering.ServiceDefaults;

var builder = MeteringDefaults.CreateBuilder(args);
builder.AddMeteringDefaults("metering-ingest", defaultPort: 5080, defaultManagementPort: 5090);
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton<UsageProducer>();
builder.Services.AddSingleton<IngestRejects>();
builder.Services.AddHealthChecks().AddCheck<UsageProducer>("kafka", tags: [MeteringDefaults.ReadyTag]);

var app = builder.Build();
app.MapMeteringDefaults();
app.MapRecordUsage();
app.Run();

public partial class Program;
