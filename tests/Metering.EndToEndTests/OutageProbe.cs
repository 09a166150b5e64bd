namespace Metering.EndToEndTests;

/// <summary>What one request got while a dependency was down: its status and whether it said when to come back.</summary>
public sealed record OutageAnswer(string Request, int Status, bool HasRetryAfter, string? ContentType)
{
    public bool IsUnavailableWithRetryAfter => Status == 503 && HasRetryAfter;

    public override string ToString() =>
        $"{Request} -> {(Status == 0 ? "no answer" : Status.ToString(System.Globalization.CultureInfo.InvariantCulture))}" +
        $"{(HasRetryAfter ? " Retry-After" : "")} {ContentType}";

    public static string Describe(IEnumerable<OutageAnswer> answers) => string.Join(Environment.NewLine, answers);
}

/// <summary>Sends the requests of a fault test while the fault lasts and records what each got; the test asserts after the totals.</summary>
public sealed class OutageProbe(MeteringSystem system) : IDisposable
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(15) };

    public async Task<OutageAnswer> SendAsync(HttpMethod method, ServiceProcess service, string path, string? token, string? json = null)
    {
        var name = $"{method} {service.Name} {path}";
        using var request = system.Request(method, service, path, token, json is null ? null : new StringContent(json, Encoding.UTF8, "application/json"));
        try
        {
            using var response = await _http.SendAsync(request);
            return new OutageAnswer(name, (int)response.StatusCode, response.Headers.RetryAfter is not null, response.Content.Headers.ContentType?.MediaType);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return new OutageAnswer(name, 0, false, null);
        }
    }

    public Task<OutageAnswer> ReadinessAsync(ServiceProcess service) => SendAsync(HttpMethod.Get, service, "/healthz/ready", null);

    /// <summary>
    /// Readiness asked until it is not 200 or <paramref name="until"/> passes (a check may be run on an interval, so
    /// a moment's delay is fine; staying ready for the whole fault is not); the last answer.
    /// </summary>
    public async Task<OutageAnswer> ReadinessUntilNotReadyAsync(ServiceProcess service, DateTime until)
    {
        while (true)
        {
            var answer = await ReadinessAsync(service);
            if (answer.Status != (int)HttpStatusCode.OK || DateTime.UtcNow >= until) return answer;
            await Task.Delay(250);
        }
    }

    /// <summary>The requests of Budgets and Billing that cannot be answered without PostgreSQL, and both services' readiness.</summary>
    public async Task<IReadOnlyList<OutageAnswer>> NeedingTheDatabaseAsync(string unseenTenant, string month)
    {
        var answers = new List<OutageAnswer>
        {
            await SendAsync(HttpMethod.Get, system.Budgets, $"/v1/tenants/{unseenTenant}/budget", MeteringSystem.AdminToken),
            await SendAsync(HttpMethod.Put, system.Budgets, $"/v1/tenants/{unseenTenant}/quota", MeteringSystem.AdminToken,
                """{"limits":[{"meter":"input_tokens","period":"month","limit":1000,"enforcement":"throttle"}]}"""),
            await SendAsync(HttpMethod.Get, system.Budgets, $"/v1/tenants/{unseenTenant}/quota/history", MeteringSystem.AdminToken),
            await SendAsync(HttpMethod.Get, system.Budgets, $"/v1/tenants?q={unseenTenant}", MeteringSystem.AdminToken),
            await SendAsync(HttpMethod.Get, system.Budgets, $"/v1/alerts?tenant={unseenTenant}", MeteringSystem.AdminToken),
            await SendAsync(HttpMethod.Get, system.Billing, $"/v1/invoices/{unseenTenant}/{month}", MeteringSystem.AdminToken),
        };
        return answers;
    }

    public void Dispose() => _http.Dispose();
}

public static class OutageAssert
{
    /// <summary>Each request that needs the database was told 503 with a Retry-After header — never a 500 or silence.</summary>
    public static void AllUnavailableWithRetryAfter(IReadOnlyList<OutageAnswer> answers) =>
        Assert.True(answers.All(a => a.IsUnavailableWithRetryAfter),
            "while PostgreSQL was down every request needing it should answer 503 with Retry-After:" + Environment.NewLine + OutageAnswer.Describe(answers));

    /// <summary>Not 200: a check that does not answer within the probe's timeout counts as not ready, as a Kubernetes probe sees it.</summary>
    public static void NotReady(OutageAnswer readiness) =>
        Assert.True(readiness.Status != (int)HttpStatusCode.OK, $"readiness should not be 200: {readiness}");
}
