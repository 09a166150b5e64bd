using Metering.Client;
using System.Net.Http.Headers;

namespace Metering.EndToEndTests;

/// <summary>
/// Ingest, Budgets and Billing as three processes on free ports, on the PostgreSQL that <c>./metering test</c>
/// provisions and a development Kafka broker of the system's own, so that one system's load never queues up in front
/// of another's events. Started once per test collection; each test uses tenants of its own. The services export
/// traces and metrics by OTLP to a receiver of the system's own.
/// </summary>
public class MeteringSystem : IAsyncLifetime
{
    public const string AdminToken = "e2e-admin-token";
    public const string EmitterToken = "e2e-emitter-token";
    /// <summary>Viewer tokens of the teams the chargeback tests define (every system has a database of its own).</summary>
    public static readonly IReadOnlyDictionary<string, string> ViewerTokens = new Dictionary<string, string>
    {
        [Research] = "e2e-viewer-research-token",
        [Nlp] = "e2e-viewer-nlp-token",
        [Vision] = "e2e-viewer-vision-token",
    };

    private readonly List<ServiceProcess> _processes = [];
    private readonly Dictionary<ServiceProcess, Dictionary<string, string>> _environments = [];
    private DevKafkaProcess _kafka = null!;
    private IAsyncDisposable _database = null!;
    private readonly Dictionary<string, string> _environment = [];
    private readonly string _logs = Path.Combine(BuildOutput.RepositoryRoot, ".metering", "logs", "e2e");

    public string KafkaBootstrapServers => _kafka.BootstrapServers;
    /// <summary>The system's own broker, for tests that inject faults into it (infra/Metering.DevKafka/FaultCommands.cs).</summary>
    public DevKafkaProcess Kafka => _kafka;
    public string PostgresConnectionString { get; private set; } = null!;
    public string BudgetsGroupId => _environment["METERING_BUDGETS_GROUP_ID"];
    public string BillingGroupId => _environment["METERING_BILLING_GROUP_ID"];
    public OtlpReceiver? Telemetry { get; private set; }
    public ServiceProcess Ingest { get; private set; } = null!;
    public ServiceProcess Budgets { get; private set; } = null!;
    public ServiceProcess Billing { get; private set; } = null!;
    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(30) };
    /// <summary>The connections of the typed clients, shared by all of them.</summary>
    private readonly SocketsHttpHandler _clientConnections = new();

    public async Task InitializeAsync()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        _kafka = await DevKafkaProcess.StartAsync();
        (PostgresConnectionString, _database) = await CreateDatabaseAsync();
        _environment["METERING_POSTGRES"] = PostgresConnectionString;
        _environment["KAFKA_BOOTSTRAP_SERVERS"] = _kafka.BootstrapServers;
        _environment["METERING_ADMIN_TOKEN"] = AdminToken;
        _environment["METERING_EMITTER_TOKEN"] = EmitterToken;
        _environment["METERING_VIEWER_TOKENS"] = string.Join(',', ViewerTokens.Select(v => $"{v.Key}={v.Value}"));
        _environment["METERING_BUDGETS_GROUP_ID"] = $"e2e-budgets-{run}";
        _environment["METERING_BILLING_GROUP_ID"] = $"e2e-billing-{run}";
        _environment["METERING_ORLEANS_CLUSTER_ID"] = $"e2e-{run}";
        foreach (var (key, value) in ExtraEnvironment) _environment[key] = value;
        if (ExportsTelemetry)
        {
            Telemetry = new OtlpReceiver();
            _environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = Telemetry.Endpoint.ToString().TrimEnd('/');
            _environment["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf";
            _environment["OTEL_BSP_SCHEDULE_DELAY"] = "200";
            _environment["OTEL_METRIC_EXPORT_INTERVAL"] = "1000";
        }
        Ingest = Start("Ingest");
        Budgets = Start("Budgets");
        Billing = Start("Billing");
        await Task.WhenAll(_processes.Select(p => p.WaitUntilReadyAsync(Http, TimeSpan.FromSeconds(120))));
    }

    /// <summary>
    /// A database of the system's own: rate cards and other global state start empty and vanish with the system. On the
    /// shared test server unless a system brings its own PostgreSQL; the owner is disposed with the system.
    /// </summary>
    protected virtual async Task<(string ConnectionString, IAsyncDisposable Owner)> CreateDatabaseAsync()
    {
        var database = await TestInfrastructure.CreateDatabaseAsync("metering_e2e");
        return (database.ConnectionString, database);
    }

    /// <summary>Settings a system adds to every service's environment.</summary>
    protected virtual IReadOnlyDictionary<string, string> ExtraEnvironment { get; } = new Dictionary<string, string>();

    /// <summary>Tracing every event of a load test would only slow it down; see <see cref="DisruptedMeteringSystem"/>.</summary>
    protected virtual bool ExportsTelemetry => true;

    /// <summary>Starts one more instance of a service (the same consumer group and cluster), or a restart at a known URL.</summary>
    public async Task<ServiceProcess> StartInstanceAsync(string name, Uri? url = null, Dictionary<string, string>? environment = null)
    {
        var process = Start(name, url, environment);
        await process.WaitUntilReadyAsync(Http, TimeSpan.FromSeconds(120));
        return process;
    }

    /// <summary>
    /// kill -9, then a new process of the same service with the same URL and configuration — the same Orleans ports too,
    /// so the new silo replaces the dead one, as a restarted pod would.
    /// </summary>
    public async Task<ServiceProcess> CrashAndRestartAsync(ServiceProcess crashed, TimeSpan downtime)
    {
        await crashed.KillAsync();
        await Task.Delay(downtime);
        var restarted = await StartInstanceAsync(crashed.Name, crashed.Url, _environments[crashed]);
        if (crashed == Budgets) Budgets = restarted;
        if (crashed == Billing) Billing = restarted;
        if (crashed == Ingest) Ingest = restarted;
        return restarted;
    }

    private ServiceProcess Start(string name, Uri? url = null, Dictionary<string, string>? environment = null)
    {
        environment ??= new Dictionary<string, string>(_environment)
        {
            ["METERING_ORLEANS_SILO_PORT"] = FreePorts.Next().ToString(),
        };
        var process = ServiceProcess.Start(name, environment, _logs, url);
        _processes.Add(process);
        _environments[process] = environment;
        return process;
    }

    /// <summary>The variables a process of this system was started with (besides those every service process gets).</summary>
    public IReadOnlyDictionary<string, string> EnvironmentOf(ServiceProcess process) => _environments[process];

    public async Task DisposeAsync()
    {
        foreach (var process in _processes) await process.DisposeAsync();
        await _kafka.DisposeAsync();
        await _database.DisposeAsync();
        Telemetry?.Dispose();
        Http.Dispose();
        _clientConnections.Dispose();
    }

    /// <summary>
    /// Typed clients of the services (Metering.Client) with a token, for calls that must succeed. Without the resilience
    /// handler: a test sees every answer as the service gave it, never a repeat that hides one. Cheap: the connections are shared.
    /// </summary>
    public IngestClient IngestApi(string token = EmitterToken) => new(TypedHttp(Ingest, token));

    public BudgetsClient BudgetsApi(string token = AdminToken) => new(TypedHttp(Budgets, token));

    public BillingClient BillingApi(string token = AdminToken) => new(TypedHttp(Billing, token));

    private HttpClient TypedHttp(ServiceProcess service, string token) => new(_clientConnections, disposeHandler: false)
    {
        BaseAddress = service.Url,
        Timeout = TimeSpan.FromSeconds(30),
        DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Bearer", token) },
    };

    public HttpRequestMessage Request(HttpMethod method, ServiceProcess service, string path, string? token, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, new Uri(service.Url, path)) { Content = content };
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return request;
    }
}

[CollectionDefinition(Name)]
public sealed class MeteringSystemCollection : ICollectionFixture<MeteringSystem>
{
    public const string Name = "metering system";
}

/// <summary>A system of its own for tests that crash or add instances, so the shared one is never disturbed.</summary>
public sealed class DisruptedMeteringSystem : MeteringSystem
{
    protected override bool ExportsTelemetry => false;
}

[CollectionDefinition(Name)]
public sealed class DisruptedSystemCollection : ICollectionFixture<DisruptedMeteringSystem>
{
    public const string Name = "disrupted metering system";
}

/// <summary>
/// A system of its own for the chargeback tests: they assert a whole month across every tenant (reconciliation's
/// counts, the platform's statements), so no other test may send usage into that month beside them.
/// </summary>
public sealed class ChargebackMeteringSystem : MeteringSystem;

[CollectionDefinition(Name)]
public sealed class ChargebackSystemCollection : ICollectionFixture<ChargebackMeteringSystem>
{
    public const string Name = "chargeback metering system";
}
