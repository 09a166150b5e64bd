using Metering.Console;
using Metering.Console.Hosting;
using Metering.Console.Proxy;
using Metering.Console.Session;

var builder = MeteringDefaults.CreateBuilder(args);
builder.AddMeteringHostDefaults("metering-console", defaultPort: 5083, defaultManagementPort: 5093);
builder.Services.AddSingleton(TimeProvider.System);
builder.AddConsoleSession();
builder.AddApiProxy();
builder.Services.AddHttpClient<TokenCheck>(http =>
{
    http.BaseAddress = ConsoleSettings.BillingUrl(builder.Configuration);
    http.Timeout = TimeSpan.FromSeconds(10);
});
var dist = ConsoleSettings.Dist(builder.Configuration, builder.Environment.ContentRootPath);

var app = builder.Build();
app.UseSecurityHeaders();
app.MapMeteringHostDefaults();
app.MapSigningIn();
app.MapApiProxy();
app.MapAppFiles(dist);
app.Run();

public partial class Program;
