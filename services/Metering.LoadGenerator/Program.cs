using System.Globalization;
using Metering.Emitter;
using Metering.LoadGenerator;
using Metering.LoadGenerator.Benchmarks;

// Metering.LoadGenerator --rate 2000 --duration 30 --tenants 50 --via http|kafka [--ingest URL] [--token T]
//   [--bootstrap SERVERS] [--max-events N] [--seed N] [--tenant-prefix P] [--report FILE.json]
//   [--verify --budgets URL --billing URL --admin-token T]: afterwards, wait until Budgets and Billing show exactly what was sent
// A later option wins, so ./metering demo can pass defaults and the user's options after them.
var arguments = new Dictionary<string, string>(StringComparer.Ordinal);
for (var i = 0; i < args.Length; i++)
    if (args[i].StartsWith("--", StringComparison.Ordinal))
        arguments[args[i][2..]] = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[i + 1] : "";
string Arg(string name, string fallback) => arguments.TryGetValue(name, out var v) && v.Length > 0 ? v : fallback;

if (args is ["bench", "ingest", ..])
    return await RunIngestBenchmarkAsync();
if (args is ["bench", "budgets", ..])
    return await RunBudgetsBenchmarkAsync();
if (args is ["bench", "forecast", ..])
    return await RunForecastBenchmarkAsync();
if (args is ["bench", "console", ..])
    return await RunConsoleBenchmarkAsync();

if (arguments.ContainsKey("help"))
{
    Console.WriteLine("Metering.LoadGenerator --rate EVENTS/S --duration SECONDS --tenants N --via http|kafka [--ingest URL] [--token T] [--bootstrap SERVERS] [--max-events N] [--seed N] [--tenant-prefix P] [--report FILE] [--verify [--budgets URL] [--billing URL] [--admin-token T]]");
    return 0;
}

var options = new LoadOptions
{
    EventsPerSecond = double.Parse(Arg("rate", "1000"), CultureInfo.InvariantCulture),
    Duration = TimeSpan.FromSeconds(double.Parse(Arg("duration", "10"), CultureInfo.InvariantCulture)),
    MaxEvents = long.Parse(Arg("max-events", "0"), CultureInfo.InvariantCulture),
    Tenants = int.Parse(Arg("tenants", "20"), CultureInfo.InvariantCulture),
    TenantPrefix = Arg("tenant-prefix", "tenant-"),
    Seed = int.Parse(Arg("seed", "42"), CultureInfo.InvariantCulture),
};

await using var sink = NewSink();

using var stop = new CancellationTokenSource();
// The first Ctrl-C (or SIGINT from a benchmark) stops sending and reports what was sent; a second one ends the process.
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = !stop.IsCancellationRequested;
    stop.Cancel();
};
Console.WriteLine($"sending {options.EventsPerSecond} events/s for {options.Duration.TotalSeconds} s to {options.Tenants} tenants via {Arg("via", "http")}");
var report = await LoadRun.RunAsync(options, sink, stop.Token);
Console.Write(report.ToTable());
if (arguments.TryGetValue("report", out var file) && file.Length > 0) await File.WriteAllTextAsync(file, report.ToJson());

if (!arguments.ContainsKey("verify") || stop.IsCancellationRequested) return 0;
using var verification = new Verification(new Uri(Arg("budgets", "http://127.0.0.1:5081")), new Uri(Arg("billing", "http://127.0.0.1:5082")),
    Arg("admin-token", Environment.GetEnvironmentVariable("METERING_ADMIN_TOKEN") ?? "dev-admin-token"));
var lines = await verification.WaitForMatchAsync(report, TimeSpan.FromSeconds(120), stop.Token);
Console.Write(Verification.ToTable(lines));
return lines.All(l => l.Matches) ? 0 : 1;

IUsageSink NewSink() => Arg("via", "http") switch
{
    "http" => new HttpSink(new Uri(Arg("ingest", "http://127.0.0.1:5080")), EmitterToken()),
    "kafka" => new EmitterSink(new UsageEmitterOptions { BootstrapServers = Bootstrap(), ClientId = "metering-load-generator" }),
    var other => throw new ArgumentException($"--via must be http or kafka, not {other}"),
};

string EmitterToken() => Arg("token", Environment.GetEnvironmentVariable("METERING_EMITTER_TOKEN") ?? "dev-emitter-token");
string Bootstrap() => Arg("bootstrap", Environment.GetEnvironmentVariable("KAFKA_BOOTSTRAP_SERVERS") ?? "127.0.0.1:9092");

// bench ingest [--rates 5000,10000,...] [--duration SECONDS] [--tenants N] [--via http|kafka] [--raw-events N]
//   [--postgres CONNECTION] [--results FOLDER]: see IngestBenchmark
// bench budgets [--authorize-rate N] [--ingest-rate N] [--reaction-ingest-rate N] [--duration S] [--trials N] [--clients N]
//   [--active-tenants N] [--load-via kafka|http] [--budgets-pid PID] [--results FOLDER]: see BudgetsBenchmark
async Task<int> RunBudgetsBenchmarkAsync()
{
    var tee = new IngestBenchmark.Tee(Console.Out);
    var exit = await BudgetsBenchmark.RunAsync(new BudgetsBenchmarkOptions
    {
        Ingest = new Uri(Arg("ingest", "http://127.0.0.1:5080")),
        Budgets = new Uri(Arg("budgets", "http://127.0.0.1:5081")),
        AdminToken = Arg("admin-token", Environment.GetEnvironmentVariable("METERING_ADMIN_TOKEN") ?? "dev-admin-token"),
        EmitterToken = EmitterToken(),
        Bootstrap = Bootstrap(),
        BudgetsPid = int.Parse(Arg("budgets-pid", "0"), CultureInfo.InvariantCulture),
        AuthorizeRate = double.Parse(Arg("authorize-rate", "2000"), CultureInfo.InvariantCulture),
        IngestRate = double.Parse(Arg("ingest-rate", "5000"), CultureInfo.InvariantCulture),
        ReactionIngestRate = double.Parse(Arg("reaction-ingest-rate", "20000"), CultureInfo.InvariantCulture),
        Duration = TimeSpan.FromSeconds(double.Parse(Arg("duration", "20"), CultureInfo.InvariantCulture)),
        ReactionTrials = int.Parse(Arg("trials", "200"), CultureInfo.InvariantCulture),
        Clients = int.Parse(Arg("clients", "200"), CultureInfo.InvariantCulture),
        ActiveTenants = int.Parse(Arg("active-tenants", "10000"), CultureInfo.InvariantCulture),
        LoadVia = Arg("load-via", "kafka"),
    }, tee, CancellationToken.None);
    await WriteResultsAsync("budgets", tee);
    return exit;
}

// bench forecast [--seed N] [--tenants N] [--months N] [--results FOLDER]: see ForecastBenchmark
async Task<int> RunForecastBenchmarkAsync()
{
    var tee = new IngestBenchmark.Tee(Console.Out);
    var exit = ForecastBenchmark.Run(new ForecastBenchmarkOptions
    {
        Seed = int.Parse(Arg("seed", "42"), CultureInfo.InvariantCulture),
        TenantsPerProfile = int.Parse(Arg("tenants", "50"), CultureInfo.InvariantCulture),
        Months = int.Parse(Arg("months", "13"), CultureInfo.InvariantCulture),
    }, tee);
    await WriteResultsAsync("forecast", tee);
    return exit;
}

// bench console [--tenants N] [--events N] [--days N] [--teams N] [--runs N] [--measure-only] [--budgets URL] [--billing URL] [--console URL]
//   [--bootstrap SERVERS] [--dist FOLDER] [--results FOLDER]: see ConsoleBenchmark
async Task<int> RunConsoleBenchmarkAsync()
{
    var tee = new IngestBenchmark.Tee(Console.Out);
    var exit = await ConsoleBenchmark.RunAsync(new ConsoleBenchmarkOptions
    {
        Budgets = new Uri(Arg("budgets", "http://127.0.0.1:5081")),
        Billing = new Uri(Arg("billing", "http://127.0.0.1:5082")),
        Console = new Uri(Arg("console", "http://127.0.0.1:5083")),
        AdminToken = Arg("admin-token", Environment.GetEnvironmentVariable("METERING_ADMIN_TOKEN") ?? "dev-admin-token"),
        Bootstrap = Bootstrap(),
        Dist = Arg("dist", Path.Combine("console", "dist")),
        Tenants = int.Parse(Arg("tenants", "10000"), CultureInfo.InvariantCulture),
        Events = long.Parse(Arg("events", "1000000"), CultureInfo.InvariantCulture),
        Days = int.Parse(Arg("days", "30"), CultureInfo.InvariantCulture),
        Teams = int.Parse(Arg("teams", "50"), CultureInfo.InvariantCulture),
        Runs = int.Parse(Arg("runs", "10"), CultureInfo.InvariantCulture),
        MeasureOnly = arguments.ContainsKey("measure-only"),
    }, tee, CancellationToken.None);
    await WriteResultsAsync("console", tee);
    return exit;
}

async Task WriteResultsAsync(string name, IngestBenchmark.Tee tee)
{
    var folder = Arg("results", Path.Combine(".metering", "bench"));
    Directory.CreateDirectory(folder);
    var file = Path.Combine(folder, $"{name}-{DateTime.UtcNow:yyyyMMdd-HHmmss}.txt");
    await File.WriteAllTextAsync(file, tee.Copy.ToString());
    Console.WriteLine($"results written to {file}");
}

async Task<int> RunIngestBenchmarkAsync()
{
    var tee = new IngestBenchmark.Tee(Console.Out);
    var exit = await IngestBenchmark.RunAsync(new IngestBenchmarkOptions
    {
        Rates = Arg("rates", "5000,10000,20000,30000,40000,50000,60000").Split(',').Select(r => double.Parse(r, CultureInfo.InvariantCulture)).ToList(),
        StepDuration = TimeSpan.FromSeconds(double.Parse(Arg("duration", "30"), CultureInfo.InvariantCulture)),
        Tenants = int.Parse(Arg("tenants", "100"), CultureInfo.InvariantCulture),
        RawEvents = int.Parse(Arg("raw-events", "200000"), CultureInfo.InvariantCulture),
        Sink = NewSink,
        Via = Arg("via", "http"),
        Budgets = new Uri(Arg("budgets", "http://127.0.0.1:5081")),
        Token = EmitterToken(),
        Bootstrap = Bootstrap(),
        Postgres = Arg("postgres", Environment.GetEnvironmentVariable("METERING_POSTGRES") ?? ""),
    }, tee, CancellationToken.None);
    await WriteResultsAsync("ingest", tee);
    return exit;
}
