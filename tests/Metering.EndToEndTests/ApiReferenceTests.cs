using System.Net;

namespace Metering.EndToEndTests;

/// <summary><c>GET /v1/me</c> on every service: what the presented token is, so a client knows what it may do.</summary>
[Collection(MeteringSystemCollection.Name)]
public sealed class ApiReferenceTests(MeteringSystem system)
{
    private const string Json = "application/json";
    private const string Problem = "application/problem+json";

    public static TheoryData<string> Services => ["Ingest", "Budgets", "Billing"];

    [Theory, MemberData(nameof(Services))]
    public async Task Me_answers_the_role_of_the_presented_token_and_a_viewer_its_team(string name)
    {
        var service = ServiceNamed(name);
        var (team, viewerToken) = MeteringSystem.ViewerTokens.First();
        foreach (var (token, expected) in new[]
                 {
                     (MeteringSystem.AdminToken, """{"role":"admin"}"""),
                     (MeteringSystem.EmitterToken, """{"role":"emitter"}"""),
                     (viewerToken, $$"""{"role":"viewer","team":"{{team}}"}"""),
                 })
        {
            using var response = await system.Http.SendAsync(system.Request(HttpMethod.Get, service, "/v1/me", token));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(Json, response.Content.Headers.ContentType?.MediaType);
            Assert.Equal(expected, await response.Content.ReadAsStringAsync());
        }

        foreach (var token in new string?[] { null, "not-a-token" })
        {
            using var refused = await system.Http.SendAsync(system.Request(HttpMethod.Get, service, "/v1/me", token));
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.Equal(Problem, refused.Content.Headers.ContentType?.MediaType);
        }
    }

    private ServiceProcess ServiceNamed(string name) => name switch
    {
        "Ingest" => system.Ingest,
        "Budgets" => system.Budgets,
        "Billing" => system.Billing,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, null),
    };
}
