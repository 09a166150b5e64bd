using System.Text.Encodings.Web;

namespace Metering.EndToEndTests;

/// <summary>
/// What a client can learn from each service without reading its code: <c>GET /v1/me</c> says what the presented token
/// is; <c>/openapi/v1.json</c> describes every endpoint of PRODUCT §5 and §5a that the service serves (method, request
/// body, answer, problem+json errors, the bearer scheme), <c>/docs</c> shows it; and the committed copies in
/// <c>docs/openapi/</c> are the documents the services publish.
/// </summary>
[Collection(MeteringSystemCollection.Name)]
public sealed class ApiReferenceTests(MeteringSystem system)
{
    /// <summary>Set to 1 to rewrite the committed documents from the live ones instead of comparing them.</summary>
    public const string UpdateVariable = "METERING_UPDATE_OPENAPI";

    private const string Json = "application/json";
    private const string Problem = "application/problem+json";

    /// <summary>An endpoint of PRODUCT §5/§5a: its method and path, whether it takes a JSON body, what else its 200 may be, its query parameters.</summary>
    public sealed record Contracted(string Method, string Path, bool TakesBody = false, string? AlsoAnswers = null, string[]? Query = null)
    {
        public override string ToString() => $"{Method.ToUpperInvariant()} {Path}";
    }

    /// <summary>Every path of PRODUCT §5 and §5a, by the service that serves it (copied from PRODUCT, not from the code).</summary>
    private static readonly Dictionary<string, Contracted[]> Contract = new()
    {
        ["Ingest"] =
        [
            new("post", "/v1/usage", TakesBody: true),
            new("get", "/v1/me"),
        ],
        ["Budgets"] =
        [
            new("get", "/v1/tenants/{tenant}/budget"),
            new("put", "/v1/tenants/{tenant}/quota", TakesBody: true),
            new("get", "/v1/tenants/{tenant}/quota/history"),
            new("post", "/v1/tenants/{tenant}/authorize", TakesBody: true),
            new("get", "/v1/me"),
            new("get", "/v1/tenants", Query: ["status", "q", "limit", "cursor"]),
            new("get", "/v1/alerts", Query: ["tenant", "since", "limit", "cursor"]),
        ],
        ["Billing"] =
        [
            new("post", "/v1/usage/{tenant}/{id}/void", TakesBody: true),
            new("put", "/v1/rate-card", TakesBody: true),
            new("put", "/v1/teams/{team}", TakesBody: true),
            new("put", "/v1/tenants/{tenant}/team", TakesBody: true),
            new("get", "/v1/invoices/{tenant}/{period}"),
            new("post", "/v1/invoices/{tenant}/{period}/finalize", TakesBody: true),
            new("get", "/v1/chargeback/{period}", AlsoAnswers: "text/csv", Query: ["format", "team"]),
            new("put", "/v1/capacity-cost/{period}", TakesBody: true),
            new("get", "/v1/reconciliation/{period}"),
            new("get", "/v1/me"),
            new("get", "/v1/spend", Query: ["from", "to", "group_by", "granularity", "tenant", "team", "meter", "model", "gpu_type"]),
            new("get", "/v1/forecast/{period}", Query: ["tenant", "team"]),
            new("get", "/v1/invoices", Query: ["period"]),
        ],
    };

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

    [Theory, MemberData(nameof(Services))]
    public async Task The_OpenAPI_document_describes_every_contracted_endpoint_of_the_service(string name)
    {
        var document = await ReadDocumentAsync(ServiceNamed(name));

        Assert.StartsWith("3.1", (string?)document["openapi"]);
        var scheme = document["components"]?["securitySchemes"]?["Bearer"];
        Assert.True(scheme is not null, "components.securitySchemes has no Bearer scheme");
        Assert.Equal("http", (string?)scheme["type"]);
        Assert.Equal("bearer", (string?)scheme["scheme"]);

        var missing = new List<string>();
        foreach (var endpoint in Contract[name])
        {
            if (document["paths"]?[endpoint.Path]?[endpoint.Method] is not JsonObject operation)
            {
                missing.Add($"{endpoint}: not in the document");
                continue;
            }
            missing.AddRange(Faults(operation, endpoint, document).Select(fault => $"{endpoint}: {fault}"));
        }
        Assert.True(missing.Count == 0, $"{name}'s /openapi/v1.json:\n" + string.Join("\n", missing));
    }

    [Theory, MemberData(nameof(Services))]
    public async Task Health_checks_and_the_document_itself_are_no_operations_of_the_document(string name)
    {
        var paths = (await ReadDocumentAsync(ServiceNamed(name)))["paths"]!.AsObject().Select(p => p.Key).ToList();
        Assert.DoesNotContain(paths, p => p.StartsWith("/healthz", StringComparison.Ordinal) || p.StartsWith("/openapi", StringComparison.Ordinal)
                                          || p.StartsWith("/docs", StringComparison.Ordinal) || p == "/metrics");
    }

    [Theory, MemberData(nameof(Services))]
    public async Task Docs_serves_the_browsable_reference_without_a_token(string name)
    {
        var service = ServiceNamed(name);
        using var docs = await system.Http.GetAsync(new Uri(service.Url, "/docs"));
        Assert.Equal(HttpStatusCode.OK, docs.StatusCode);
        Assert.Equal("text/html", docs.Content.Headers.ContentType?.MediaType);
        var html = await docs.Content.ReadAsStringAsync();
        Assert.Contains("openapi/v1.json", html);

        // The script it loads is served by the service itself: the reference works without internet access.
        using var script = await system.Http.GetAsync(new Uri(docs.RequestMessage!.RequestUri!, "scalar.js"));
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
    }

    [Theory, MemberData(nameof(Services))]
    public async Task The_committed_document_is_the_one_the_service_publishes(string name)
    {
        var live = Normalized(await ReadDocumentAsync(ServiceNamed(name)));
        var file = Path.Combine(BuildOutput.RepositoryRoot, "docs", "openapi", $"{name.ToLowerInvariant()}.json");
        if (Environment.GetEnvironmentVariable(UpdateVariable) == "1")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            await File.WriteAllTextAsync(file, live);
            return;
        }
        Assert.True(File.Exists(file), $"{file} is missing. Write it with: {UpdateVariable}=1 ./metering test --filter ApiReferenceTests");
        var committed = await File.ReadAllTextAsync(file);
        Assert.True(committed == live,
            $"{name}'s /openapi/v1.json differs from {file} (first difference at line {FirstDifferentLine(committed, live)}). " +
            $"If the API change is intended, rewrite the committed documents with: {UpdateVariable}=1 ./metering test --filter ApiReferenceTests");
    }

    /// <summary>What the document lacks for one contracted endpoint.</summary>
    private static IEnumerable<string> Faults(JsonObject operation, Contracted endpoint, JsonNode document)
    {
        if (string.IsNullOrEmpty((string?)operation["operationId"])) yield return "no operationId (.WithName)";
        if (string.IsNullOrEmpty((string?)operation["summary"])) yield return "no summary (.WithSummary)";

        // Clients (the console's generated types among them) can send only the query parameters the document declares.
        var declared = (operation["parameters"]?.AsArray() ?? []).Where(p => (string?)p?["in"] == "query").Select(p => (string?)p?["name"]).ToHashSet();
        foreach (var parameter in endpoint.Query ?? [])
            if (!declared.Contains(parameter)) yield return $"query parameter '{parameter}' not declared";

        var body = operation["requestBody"]?["content"]?[Json]?["schema"];
        if (endpoint.TakesBody && !IsSchema(body, document)) yield return "no application/json request body schema";
        if (!endpoint.TakesBody && operation["requestBody"] is not null) yield return "a request body it does not read";

        var responses = operation["responses"]?.AsObject() ?? [];
        var success = responses.Where(r => r.Key.StartsWith('2')).ToList();
        if (success.Count == 0 || !success.All(r => IsSchema(r.Value?["content"]?[Json]?["schema"], document)))
            yield return "no application/json schema for its 2xx answer";
        if (endpoint.AlsoAnswers is { } alternative && !success.Any(r => r.Value?["content"]?[alternative] is not null))
            yield return $"no {alternative} answer";

        var problems = responses.Where(r => r.Value?["content"]?[Problem] is not null).Select(r => r.Key).ToList();
        if (!problems.Contains("401")) yield return "no 401 problem+json answer";
        if (endpoint.Path != "/v1/me" && !problems.Contains("403")) yield return "no 403 problem+json answer";
        if ((endpoint.TakesBody || operation["parameters"] is JsonArray { Count: > 0 }) && !problems.Contains("400"))
            yield return "no 400 problem+json answer for invalid input";
        if (endpoint.TakesBody && !(problems.Contains("413") && problems.Contains("415"))) yield return "no 413/415 problem+json answers for its body";
        if (responses["503"] is { } unavailable && unavailable["headers"]?["Retry-After"] is null) yield return "a 503 without Retry-After";

        var security = operation["security"]?.AsArray() ?? [];
        if (!security.Any(requirement => requirement?["Bearer"] is not null)) yield return "no Bearer security requirement";
    }

    /// <summary>A schema of its own or a reference to one of the document's components.</summary>
    private static bool IsSchema(JsonNode? schema, JsonNode document) =>
        schema switch
        {
            null => false,
            _ when (string?)schema["$ref"] is { } reference => reference.StartsWith("#/components/schemas/", StringComparison.Ordinal)
                && document["components"]?["schemas"]?[reference["#/components/schemas/".Length..]] is JsonObject,
            _ => schema["type"] is not null,
        };

    private async Task<JsonNode> ReadDocumentAsync(ServiceProcess service)
    {
        // Anonymous: the document describes the API and holds no data.
        using var response = await system.Http.GetAsync(new Uri(service.Url, "/openapi/v1.json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Json, response.Content.Headers.ContentType?.MediaType);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }

    /// <summary>
    /// Object keys in ordinal order, two-space indentation, '\n' line ends, text unescaped where JSON allows it ("viewer's",
    /// not "viewer\u0027s"): stable to commit and readable in a diff.
    /// </summary>
    private static string Normalized(JsonNode document) =>
        Sorted(document)!.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping })
            .ReplaceLineEndings("\n") + "\n";

    private static JsonNode? Sorted(JsonNode? node) => node switch
    {
        JsonObject obj => new JsonObject(obj.OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => KeyValuePair.Create(p.Key, Sorted(p.Value)))),
        JsonArray array => new JsonArray(array.Select(Sorted).ToArray()),
        _ => node?.DeepClone(),
    };

    private static int FirstDifferentLine(string a, string b)
    {
        var (left, right) = (a.Split('\n'), b.Split('\n'));
        var line = 0;
        while (line < left.Length && line < right.Length && left[line] == right[line]) line++;
        return line + 1;
    }

    private ServiceProcess ServiceNamed(string name) => name switch
    {
        "Ingest" => system.Ingest,
        "Budgets" => system.Budgets,
        "Billing" => system.Billing,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, null),
    };
}
