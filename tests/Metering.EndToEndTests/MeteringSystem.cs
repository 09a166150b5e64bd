using System.Net.Http.Headers;

namespace Metering.EndToEndTests;

/// <summary>
/// Ingest, Budgets and Billing as three processes on free ports, sharing the PostgreSQL and Kafka that
/// <c>./metering test</c> provisions. Started once for every end-to-end test; each test uses tenants of its own.
/// </summary>
public sealed class MeteringSystem : IAsyncLifetime
{
    public const string AdminToken = "e2e-admin-token";
    public const string EmitterToken = "e2e-emitter-token";

    private readonly List<ServiceProcess> _processes = [];

    public ServiceProcess Ingest { get; private set; } = null!;
    public ServiceProcess Budgets { get; private set; } = null!;
    public ServiceProcess Billing { get; private set; } = null!;
    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(30) };

    public async Task InitializeAsync()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var environment = new Dictionary<string, string>
        {
            ["METERING_POSTGRES"] = Required("METERING_POSTGRES"),
            ["KAFKA_BOOTSTRAP_SERVERS"] = Required("KAFKA_BOOTSTRAP_SERVERS"),
            ["METERING_ADMIN_TOKEN"] = AdminToken,
            ["METERING_EMITTER_TOKEN"] = EmitterToken,
            ["METERING_BUDGETS_GROUP_ID"] = $"e2e-budgets-{run}",
            ["METERING_BILLING_GROUP_ID"] = $"e2e-billing-{run}",
            ["METERING_ORLEANS_SILO_PORT"] = ServiceProcess.FreePort().ToString(),
            ["METERING_ORLEANS_GATEWAY_PORT"] = ServiceProcess.FreePort().ToString(),
        };
        var logs = Path.Combine(ServiceProcess.RepositoryRoot, ".metering", "logs", "e2e");
        _processes.Add(Ingest = ServiceProcess.Start("Ingest", environment, logs));
        _processes.Add(Budgets = ServiceProcess.Start("Budgets", environment, logs));
        _processes.Add(Billing = ServiceProcess.Start("Billing", environment, logs));
        await Task.WhenAll(_processes.Select(p => p.WaitUntilReadyAsync(Http, TimeSpan.FromSeconds(120))));
    }

    public async Task DisposeAsync()
    {
        foreach (var process in _processes) await process.DisposeAsync();
        Http.Dispose();
    }

    public HttpRequestMessage Request(HttpMethod method, ServiceProcess service, string path, string? token, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, new Uri(service.Url, path)) { Content = content };
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return request;
    }

    private static string Required(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"{name} is not set: run the tests with ./metering test, which provisions PostgreSQL and Kafka.");
}

[CollectionDefinition(Name)]
public sealed class MeteringSystemCollection : ICollectionFixture<MeteringSystem>
{
    public const string Name = "metering system";
}
