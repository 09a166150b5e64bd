namespace Metering.EndToEndTests;

/// <summary>
/// What each service opens, and to whom: the API (with its health endpoints) on the API port; the metrics, which carry
/// tenant ids and spend, only on the management port; Budgets' silo port on loopback; no Orleans gateway at all.
/// </summary>
[Collection(MeteringSystemCollection.Name)]
public sealed class ExposureTests(MeteringSystem system)
{
    private IEnumerable<ServiceProcess> Services => [system.Ingest, system.Budgets, system.Billing];

    [Fact]
    public async Task Metrics_are_served_on_the_management_port_and_not_on_the_API_port()
    {
        foreach (var service in Services)
        {
            using var anonymous = await system.Http.GetAsync(new Uri(service.Url, "/metrics"));
            Assert.True(anonymous.StatusCode == HttpStatusCode.NotFound, $"{service.Name} API port /metrics: {anonymous.StatusCode}");
            using var admin = await system.Http.SendAsync(system.Request(HttpMethod.Get, service, "/metrics", MeteringSystem.AdminToken));
            Assert.True(admin.StatusCode == HttpStatusCode.NotFound, $"{service.Name} API port /metrics with the admin token: {admin.StatusCode}");

            using var metrics = await system.Http.GetAsync(new Uri(service.ManagementUrl, "/metrics"));
            Assert.True(metrics.StatusCode == HttpStatusCode.OK, $"{service.Name} management port /metrics: {metrics.StatusCode}");
            Assert.Contains($"service_name=\"metering-{service.Name.ToLowerInvariant()}\"", await metrics.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task The_management_port_answers_nothing_but_the_metrics()
    {
        foreach (var service in Services)
            foreach (var path in new[] { "/healthz/ready", "/v1/me", "/v1/tenants/acme/budget", "/" })
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(service.ManagementUrl, path));
                request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", MeteringSystem.AdminToken);
                using var response = await system.Http.SendAsync(request);
                Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{service.Name} management port {path}: {response.StatusCode}");
            }
    }

    [Fact]
    public void Budgets_listens_on_loopback_only_on_its_API_management_and_silo_ports_and_opens_no_gateway()
    {
        var siloPort = int.Parse(system.EnvironmentOf(system.Budgets)["METERING_ORLEANS_SILO_PORT"], System.Globalization.CultureInfo.InvariantCulture);
        var listening = ListeningSockets.Of(system.Budgets.Id);

        Assert.All(listening, endpoint => Assert.True(IPAddress.IsLoopback(endpoint.Address), $"Budgets listens on {endpoint}"));
        Assert.Equal(
            new[] { system.Budgets.Url.Port, system.Budgets.ManagementUrl.Port, siloPort }.Order(),
            listening.Select(e => e.Port).Distinct().Order());
    }
}
