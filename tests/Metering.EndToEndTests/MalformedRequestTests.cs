using System.Net.Http.Headers;

namespace Metering.EndToEndTests;

/// <summary>A system of its own: the corpus first creates a tenant, a team, a quota and a rate-card version to compare.</summary>
public sealed class CorpusMeteringSystem : MeteringSystem
{
    protected override bool ExportsTelemetry => false;
}

[CollectionDefinition(Name)]
public sealed class CorpusSystemCollection : ICollectionFixture<CorpusMeteringSystem>
{
    public const string Name = "malformed request corpus";
}

/// <summary>
/// Every endpoint of Ingest, Budgets and Billing against a corpus of malformed requests generated from one valid request
/// per endpoint: broken JSON, wrong types, huge numbers, NaN and Infinity, deep nesting, lone surrogates as escapes and
/// as raw bytes, invalid UTF-8, control characters, bodies over the limit (with a length and chunked), wrong content
/// types, bad path and query values. Each answer must be 400 (413, 415) as problem+json naming the field, and what the
/// system holds must read back the same afterwards.
/// </summary>
[Collection(CorpusSystemCollection.Name)]
public sealed class MalformedRequestTests(CorpusMeteringSystem system)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private const string CapacityPeriod = "2001-01";
    private readonly string _tenant = $"corpus-{Guid.NewGuid():N}"[..24];
    private readonly string _team = $"corpus-team-{Guid.NewGuid():N}"[..24];

    /// <summary>One endpoint and a valid request of it; <see cref="Path"/> may hold {tenant}, {team}, {period}, {id}.</summary>
    private sealed record Endpoint(ServiceProcess Service, HttpMethod Method, string Path, string Token, JsonNode? Body = null, long BodyLimit = 64 * 1024)
    {
        public override string ToString() => $"{Method} {Path}";
    }

    /// <summary>A malformed request: what is sent, the status it must get and the field the problem must name (null: any).</summary>
    private sealed record Case(string Name, Endpoint Endpoint, string Path, byte[]? Body, string? ContentType, int Status, string? Field, Oversize? Over = null);

    private enum Oversize { WithLength, Chunked }

    private List<Endpoint> Endpoints()
    {
        var admin = MeteringSystem.AdminToken;
        var emitter = MeteringSystem.EmitterToken;
        var now = DateTimeOffset.UtcNow.AddSeconds(-1).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'");
        JsonNode Json(string text) => JsonNode.Parse(text)!;
        return
        [
            new(system.Ingest, HttpMethod.Post, "/v1/usage", emitter, Json($$$"""
                {"events":[{"id":"corpus-1","tenant":"{{{_tenant}}}","meter":"input_tokens","quantity":1000,"timestamp":"{{{now}}}",
                 "model":"corpus-model","service":"corpus","attributes":{"feature":"corpus"}}]}
                """), 4 * 1024 * 1024),
            new(system.Budgets, HttpMethod.Get, "/v1/tenants/{tenant}/budget", admin),
            new(system.Budgets, HttpMethod.Put, "/v1/tenants/{tenant}/quota", admin, Json("""
                {"limits":[{"meter":"input_tokens","period":"month","limit":1000000,"soft_pct":80,"enforcement":"alert"},
                           {"meter":"cost_usd","period":"day","limit":"250.00","enforcement":"alert"}]}
                """)),
            new(system.Budgets, HttpMethod.Get, "/v1/tenants/{tenant}/quota/history", admin),
            new(system.Budgets, HttpMethod.Post, "/v1/tenants/{tenant}/authorize", emitter, Json("""
                {"meter":"input_tokens","quantity":1,"model":"corpus-model","reserve":false}
                """), 16 * 1024),
            new(system.Billing, HttpMethod.Put, "/v1/rate-card", admin, Json("""
                {"currency":"USD","effective_from":"2001-01-01","prices":[{"meter":"input_tokens","model":"corpus-model","price":"0.60"},
                 {"meter":"gpu_seconds","gpu_type":"h100","price":"3.60"}]}
                """), 4 * 1024 * 1024),
            new(system.Billing, HttpMethod.Get, "/v1/rate-card", admin),
            new(system.Billing, HttpMethod.Put, "/v1/teams/{team}", admin, Json("""{"name":"Corpus","cost_center":"CC-1"}"""), 16 * 1024),
            new(system.Billing, HttpMethod.Get, "/v1/teams", admin),
            new(system.Billing, HttpMethod.Put, "/v1/tenants/{tenant}/team", admin, Json($$"""{"team":"{{_team}}"}"""), 16 * 1024),
            new(system.Billing, HttpMethod.Get, "/v1/tenants/{tenant}/team", admin),
            new(system.Billing, HttpMethod.Put, $"/v1/capacity-cost/{CapacityPeriod}", admin, Json("""
                {"mode":"showback","items":[{"gpu_type":"h100","gpu_hours":10,"cost":"100.00"}]}
                """)),
            new(system.Billing, HttpMethod.Get, "/v1/invoices/{tenant}/{period}", admin),
            new(system.Billing, HttpMethod.Get, "/v1/invoices/{tenant}/{period}/usage?meter=input_tokens&offset=0&limit=10", admin),
            new(system.Billing, HttpMethod.Get, "/v1/chargeback/{period}?format=csv", admin),
            new(system.Billing, HttpMethod.Get, "/v1/reconciliation/{period}", admin),
            // Last: they change what the corpus compares.
            new(system.Billing, HttpMethod.Post, "/v1/invoices/{tenant}/{period}/finalize", admin, Json("""{"force":true,"allow_unpriced":true}"""), 16 * 1024),
            new(system.Billing, HttpMethod.Post, "/v1/usage/{tenant}/{id}/void", admin, Json("""{"reason":"corpus test"}"""), 16 * 1024),
        ];
    }

    private string PathOf(Endpoint endpoint, string? tenant = null, string? team = null, string? period = null, string? id = null) =>
        endpoint.Path.Replace("{tenant}", tenant ?? _tenant).Replace("{team}", team ?? _team).Replace("{period}", period ?? Month).Replace("{id}", id ?? "corpus-1");

    // ---- the generator ----

    /// <summary>A value that stands in for the raw JSON text of a mutation until the body is serialized.</summary>
    private const string Mark = "\u0001corpus-mark\u0001";

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    /// <summary>The body with the value at <paramref name="path"/> replaced by the raw JSON <paramref name="raw"/>.</summary>
    private static byte[] Replace(JsonNode body, IReadOnlyList<object> path, byte[] raw)
    {
        var copy = body.DeepClone();
        var parent = path.Take(path.Count - 1).Aggregate(copy, (node, step) => step is int i ? node[i]! : node[(string)step]!);
        if (path[^1] is int index) parent[index] = Mark;
        else parent[(string)path[^1]] = Mark;
        var text = copy.ToJsonString();
        var at = text.IndexOf(JsonSerializer.Serialize(Mark), StringComparison.Ordinal);
        var before = Utf8(text[..at]);
        var after = Utf8(text[(at + JsonSerializer.Serialize(Mark).Length)..]);
        return Concat(before, raw, after);
    }

    /// <summary>The body with the name of its first property replaced by the raw JSON string <paramref name="raw"/>.</summary>
    private static byte[] Rename(JsonNode body, byte[] raw)
    {
        var text = body.ToJsonString();
        var first = body.AsObject().First().Key;
        var at = text.IndexOf(JsonSerializer.Serialize(first), StringComparison.Ordinal);
        return Concat(Utf8(text[..at]), raw, Utf8(text[(at + JsonSerializer.Serialize(first).Length)..]));
    }

    /// <summary>Every value in the body: its path and the JSON it holds (into the first element of arrays).</summary>
    private static IEnumerable<(IReadOnlyList<object> Path, JsonNode Value)> Fields(JsonNode node, List<object> path)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (name, value) in obj)
                {
                    List<object> at = [.. path, name];
                    yield return (at, value!);
                    foreach (var inner in Fields(value!, at)) yield return inner;
                }
                break;
            case JsonArray { Count: > 0 } array:
                List<object> first = [.. path, 0];
                yield return (first, array[0]!);
                foreach (var inner in Fields(array[0]!, first)) yield return inner;
                break;
        }
    }

    private static string FieldName(IReadOnlyList<object> path) =>
        path.Aggregate("", (name, step) => step is int i ? $"{name}[{i}]" : name.Length == 0 ? (string)step : $"{name}.{step}");

    private static readonly string Deep = new string('[', 200) + new string(']', 200);

    /// <summary>Raw JSON values that no field accepts in place of a value of this kind.</summary>
    private static IEnumerable<(string Name, byte[] Raw)> Replacements(JsonNode value)
    {
        var kind = value.GetValueKind();
        // Whatever the field: nesting beyond any reader's depth, numbers no decimal holds.
        yield return ("deep nesting", Utf8(Deep));
        yield return ("1e400", Utf8("1e400"));
        yield return ("-1e400", Utf8("-1e400"));
        yield return ("40 digits", Utf8("1234567890123456789012345678901234567890"));
        if (kind != JsonValueKind.Number) yield return ("a number", Utf8("1"));
        else yield return ("a negative number", Utf8("-1"));
        if (kind is not (JsonValueKind.True or JsonValueKind.False)) yield return ("true", Utf8("true"));
        if (kind != JsonValueKind.Array) yield return ("an array", Utf8("[]"));
        if (kind != JsonValueKind.Object) yield return ("an object", Utf8("{}"));
        if (kind is not JsonValueKind.String) yield return ("a string", Utf8("\"x\""));
        if (kind == JsonValueKind.Number || (kind == JsonValueKind.String && decimal.TryParse(value.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture, out _)))
            foreach (var word in new[] { "NaN", "Infinity", "-Infinity", "1e400" })
                yield return ($"\"{word}\"", Utf8($"\"{word}\""));
        if (kind != JsonValueKind.String) yield break;

        var text = value.GetValue<string>();
        var escaped = JsonSerializer.Serialize(text)[1..^1];
        yield return ("a lone high surrogate escape", Utf8($"\"{escaped}\\ud800\""));
        yield return ("a lone low surrogate escape", Utf8($"\"\\udc00{escaped}\""));
        yield return ("reversed surrogate escapes", Utf8("\"\\udc00\\ud800\""));
        yield return ("invalid UTF-8 bytes", Concat(Utf8($"\"{escaped}"), [0xff, 0xfe], Utf8("\"")));
        yield return ("a surrogate encoded as UTF-8", Concat(Utf8($"\"{escaped}"), [0xed, 0xa0, 0x80], Utf8("\"")));
        yield return ("an overlong UTF-8 '/'", Concat(Utf8("\"a"), [0xc0, 0xaf], Utf8("\"")));
        yield return ("a truncated UTF-8 sequence", Concat(Utf8($"\"{escaped}"), [0xe2, 0x82], Utf8("\"")));
        yield return ("U+0000", Utf8($"\"{escaped}\\u0000\""));
        yield return ("U+0001", Utf8($"\"{escaped}\\u0001\""));
        yield return ("ESC", Utf8($"\"\\u001b{escaped}\""));
    }

    private static readonly string[] BrokenJson =
    [
        "", "{", "}", "{\"", "{\"a\":}", "{\"a\" 1}", "[1,]", "{'a':1}", "nul", "tru", "{\"a\":1,}", "{\"a\":\"unterminated}", "\"\\x\"",
        "{\"a\":01}", "{\"a\":.5}", "{\"a\":+1}", "{\"a\":NaN}", "{\"a\":Infinity}", "{\"a\":\"\t\"}", "/* comment */ {}",
    ];

    private static readonly string[] WrongRoots = ["null", "[]", "\"x\"", "123", "true", "[{}]"];

    private IEnumerable<Case> BodyCases(Endpoint endpoint)
    {
        var path = PathOf(endpoint);
        var body = endpoint.Body!;
        var valid = Utf8(body.ToJsonString());
        foreach (var (fieldPath, value) in Fields(body, []))
        foreach (var (name, raw) in Replacements(value))
            yield return new($"{FieldName(fieldPath)} as {name}", endpoint, path, Replace(body, fieldPath, raw), "application/json", 400,
                name == "deep nesting" ? "$" : FieldName(fieldPath));

        var first = body.AsObject().First().Key;
        yield return new("the first property named with a lone surrogate", endpoint, path, Rename(body, Utf8("\"\\ud800\"")), "application/json", 400, null);
        yield return new("the first property named in invalid UTF-8", endpoint, path, Rename(body, Concat(Utf8($"\"{first}"), [0xff], Utf8("\""))), "application/json", 400, null);
        foreach (var broken in BrokenJson)
            yield return new($"broken JSON {JsonSerializer.Serialize(broken)}", endpoint, path, Utf8(broken), "application/json", 400, "$");
        yield return new("truncated JSON", endpoint, path, valid[..(valid.Length / 2)], "application/json", 400, "$");
        yield return new("trailing garbage", endpoint, path, Concat(valid, Utf8("x")), "application/json", 400, "$");
        yield return new("two documents", endpoint, path, Concat(valid, valid), "application/json", 400, "$");
        yield return new("a NUL byte before the JSON", endpoint, path, Concat([0], valid), "application/json", 400, "$");
        yield return new("deep nesting", endpoint, path, Utf8(Deep), "application/json", 400, "$");
        yield return new("deep object nesting", endpoint, path, Utf8(string.Concat(Enumerable.Repeat("{\"a\":", 1000)) + "1" + new string('}', 1000)), "application/json", 400, "$");
        foreach (var root in WrongRoots)
            yield return new($"a JSON {root} instead of an object", endpoint, path, Utf8(root), "application/json", 400, null);

        foreach (var type in new[] { "text/plain", "application/x-www-form-urlencoded", "application/xml", "multipart/form-data; boundary=x", "application/jsonx" })
            yield return new($"Content-Type {type}", endpoint, path, valid, type, 415, "$");
        yield return new("no Content-Type", endpoint, path, valid, null, 415, "$");

        // Valid JSON made one byte too large with white space: only the limit refuses it.
        var oversize = Concat(valid[..^1], Utf8(new string(' ', (int)endpoint.BodyLimit - valid.Length + 1)), valid[^1..]);
        yield return new($"a body of {oversize.Length} bytes with a length", endpoint, path, oversize, "application/json", 413, "$", Oversize.WithLength);
        yield return new($"a chunked body of {oversize.Length} bytes", endpoint, path, oversize, "application/json", 413, "$", Oversize.Chunked);
    }

    private static readonly string[] BadTenants =
        ["BAD", "-acme", "acme%0A", "acme%0D", "acme%00", "%00", "%0A", "acme%20", "%E2%80%8Bacme", "acme%FF", "%ED%A0%80", "%C0%AF", "a" + new string('b', 63), "acme_corp"];

    private static readonly string[] BadPeriods = ["2026-13", "2026-00", "2026-1", "2026-01%0A", "%002026-01", "1999-12", "99999-01", "2026-1%FF", "2026-01-01"];

    private IEnumerable<Case> PathCases(Endpoint endpoint)
    {
        var bodyBytes = endpoint.Body is null ? null : Utf8(endpoint.Body.ToJsonString());
        var type = bodyBytes is null ? null : "application/json";
        if (endpoint.Path.Contains("{tenant}"))
            foreach (var tenant in BadTenants)
                yield return new($"tenant {tenant}", endpoint, PathOf(endpoint, tenant: tenant), bodyBytes, type, 400, "tenant");
        if (endpoint.Path.Contains("{team}"))
            foreach (var team in BadTenants)
                yield return new($"team {team}", endpoint, PathOf(endpoint, team: team), bodyBytes, type, 400, "team");
        if (endpoint.Path.Contains("{period}"))
            foreach (var period in BadPeriods)
                yield return new($"period {period}", endpoint, PathOf(endpoint, period: period), bodyBytes, type, 400, "period");
        if (endpoint.Path.Contains("{id}"))
            foreach (var id in new[] { "%00", "x%0A", "%1B", new string('x', 129) })
                yield return new($"id {id}", endpoint, PathOf(endpoint, id: id), bodyBytes, type, 400, "id");
        if (endpoint.Path.StartsWith("/v1/capacity-cost/", StringComparison.Ordinal))
            foreach (var period in BadPeriods)
                yield return new($"period {period}", endpoint, $"/v1/capacity-cost/{period}", bodyBytes, type, 400, "period");
    }

    private IEnumerable<Case> QueryCases(Endpoint endpoint)
    {
        var path = PathOf(endpoint);
        var bare = path.Split('?')[0];
        if (bare.StartsWith("/v1/invoices/", StringComparison.Ordinal) && bare.EndsWith("/usage", StringComparison.Ordinal))
        {
            foreach (var limit in new[] { "abc", "1.5", "0", "-1", "10001", "99999999999999999999", "1e3", "%00", "5%00", "%FF", "", " 5", "0x10", "NaN" })
                yield return new($"?limit={limit}", endpoint, $"{bare}?limit={limit}", null, null, 400, "limit");
            foreach (var offset in new[] { "1.5", "-1", "abc", "99999999999999999999", "%0A", "" })
                yield return new($"?offset={offset}", endpoint, $"{bare}?offset={offset}", null, null, 400, "offset");
            foreach (var meter in new[] { "bananas", "%00", "input_tokens%0A", "%ED%A0%80" })
                yield return new($"?meter={meter}", endpoint, $"{bare}?meter={meter}", null, null, 400, "meter");
        }
        if (bare.StartsWith("/v1/chargeback/", StringComparison.Ordinal))
        {
            foreach (var format in new[] { "xlsx", "%00", "csv%0A", "CSV" })
                yield return new($"?format={format}", endpoint, $"{bare}?format={format}", null, null, 400, "format");
            foreach (var team in BadTenants)
                yield return new($"?team={team}", endpoint, $"{bare}?team={team}", null, null, 400, "team");
        }
    }

    private IEnumerable<Case> Corpus(List<Endpoint> endpoints) => endpoints.SelectMany(e => (e.Body is null ? [] : BodyCases(e)).Concat(PathCases(e)).Concat(QueryCases(e)));

    // ---- sending and judging ----

    private async Task<(HttpStatusCode Status, string? MediaType, string Body)> SendAsync(Case c)
    {
        if (c.Over is { } over) return await SendOversizeAsync(c, over);
        using var request = system.Request(c.Endpoint.Method, c.Endpoint.Service, c.Path, c.Endpoint.Token);
        if (c.Body is not null)
        {
            HttpContent content = new ByteArrayContent(c.Body);
            if (c.ContentType is not null) content.Headers.ContentType = MediaTypeHeaderValue.Parse(c.ContentType);
            request.Content = content;
        }
        using var response = await system.Http.SendAsync(request);
        return (response.StatusCode, response.Content.Headers.ContentType?.MediaType, await response.Content.ReadAsStringAsync());
    }

    /// <summary>
    /// An oversize body, over a connection of its own. The server answers before it has read the whole body and closes
    /// the connection: a client still writing then fails (a broken pipe, or a reset that loses the answer). With a
    /// length, Expect: 100-continue lets the server refuse before the body is sent; chunked, the body ends with the byte
    /// over the limit and no final chunk, so nothing is written after the server can have answered.
    /// </summary>
    private static async Task<(HttpStatusCode Status, string? MediaType, string Body)> SendOversizeAsync(Case c, Oversize over)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            return await SendOversizeAsync(c, over, timeout.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            return (0, null, $"no answer within 10 s of a body over the limit ({(over == Oversize.Chunked ? "the final chunk not sent" : "sent whole")})");
        }
    }

    private static async Task<(HttpStatusCode Status, string? MediaType, string Body)> SendOversizeAsync(Case c, Oversize over, CancellationToken ct)
    {
        var url = new Uri(c.Endpoint.Service.Url, c.Path);
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(url.Host, url.Port, ct);
        var stream = tcp.GetStream();
        var head = $"{c.Endpoint.Method} {url.PathAndQuery} HTTP/1.1\r\nHost: {url.Authority}\r\nAuthorization: Bearer {c.Endpoint.Token}\r\n" +
                   $"Content-Type: {c.ContentType}\r\nConnection: close\r\n" +
                   (over == Oversize.Chunked ? "Transfer-Encoding: chunked\r\n\r\n" : $"Content-Length: {c.Body!.Length}\r\nExpect: 100-continue\r\n\r\n");
        await stream.WriteAsync(Utf8(head), ct);
        if (over == Oversize.Chunked)
            for (var at = 0; at < c.Body!.Length; at += 64 * 1024)
            {
                var length = Math.Min(64 * 1024, c.Body.Length - at);
                await stream.WriteAsync(Concat(Utf8($"{length:X}\r\n"), c.Body[at..(at + length)], Utf8("\r\n")), ct);
            }

        var received = new List<byte>();
        var (status, headers, rest) = await ReadHeadAsync(stream, received, ct);
        if (status == 100)
        {
            await stream.WriteAsync(c.Body!, ct);
            (status, headers, rest) = await ReadHeadAsync(stream, received, ct);
        }
        var body = new MemoryStream();
        body.Write(rest);
        await stream.CopyToAsync(body, ct);
        var bytes = body.ToArray();
        if (headers.TryGetValue("transfer-encoding", out var encoding) && encoding.Contains("chunked", StringComparison.OrdinalIgnoreCase)) bytes = Unchunk(bytes);
        var mediaType = headers.TryGetValue("content-type", out var type) ? type.Split(';')[0].Trim() : null;
        return ((HttpStatusCode)status, mediaType, Encoding.UTF8.GetString(bytes));
    }

    /// <summary>The next response head: status, headers (lower-case names) and the bytes read after it.</summary>
    private static async Task<(int Status, Dictionary<string, string> Headers, byte[] After)> ReadHeadAsync(Stream stream, List<byte> received, CancellationToken ct)
    {
        var buffer = new byte[8192];
        int end;
        while ((end = IndexOf(received, "\r\n\r\n"u8)) < 0)
        {
            var read = await stream.ReadAsync(buffer, ct);
            if (read == 0) throw new IOException($"the connection closed before a response head; received: {Encoding.UTF8.GetString(received.ToArray())}");
            received.AddRange(buffer.AsSpan(0, read));
        }
        var lines = Encoding.ASCII.GetString(received.GetRange(0, end).ToArray()).Split("\r\n");
        var rest = received.GetRange(end + 4, received.Count - end - 4).ToArray();
        received.Clear();
        received.AddRange(rest);
        var headers = lines.Skip(1).Select(l => l.Split(':', 2)).ToDictionary(h => h[0].Trim().ToLowerInvariant(), h => h[1].Trim());
        return (int.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture), headers, rest);
    }

    private static int IndexOf(List<byte> bytes, ReadOnlySpan<byte> value) => System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes).IndexOf(value);

    private static byte[] Unchunk(byte[] chunked)
    {
        var body = new MemoryStream();
        var at = 0;
        while (true)
        {
            var line = chunked.AsSpan(at).IndexOf("\r\n"u8);
            var size = Convert.ToInt32(Encoding.ASCII.GetString(chunked, at, line).Split(';')[0], 16);
            if (size == 0) return body.ToArray();
            body.Write(chunked, at + line + 2, size);
            at += line + 2 + size + 2;
        }
    }

    private static string? Judge(Case c, HttpStatusCode status, string? mediaType, string body)
    {
        if ((int)status != c.Status) return $"{(int)status} instead of {c.Status}";
        // Kestrel refuses a path that decodes to U+0000 itself, with a bare 400, before any endpoint runs.
        if (status == HttpStatusCode.BadRequest && body.Length == 0 && c.Path.Split('?')[0].Contains("%00", StringComparison.Ordinal)) return null;
        if (mediaType != "application/problem+json") return $"{mediaType ?? "no content type"} instead of problem+json";
        try
        {
            using var problem = JsonDocument.Parse(body);
            if (!problem.RootElement.TryGetProperty("errors", out var errors) || errors.ValueKind != JsonValueKind.Object || !errors.EnumerateObject().Any())
                return "a problem without field errors";
            var fields = errors.EnumerateObject().Select(e => e.Name).ToList();
            if (c.Field is not null && !fields.Contains(c.Field)) return $"names {string.Join(", ", fields)}, not {c.Field}";
            return null;
        }
        catch (JsonException)
        {
            return "a problem that is not JSON";
        }
    }

    [Fact]
    public async Task Every_malformed_request_is_answered_400_413_or_415_naming_its_field_and_changes_nothing()
    {
        var endpoints = Endpoints();
        await CreateStateAsync(endpoints);
        var before = await SnapshotAsync();

        var corpus = Corpus(endpoints).ToList();
        var wrong = new List<string>();
        foreach (var c in corpus)
        {
            var (status, mediaType, body) = await SendAsync(c);
            if (Judge(c, status, mediaType, body) is { } why)
                wrong.Add($"{c.Endpoint} — {c.Name} ({c.Path}): {why}; {body[..Math.Min(body.Length, 300)]}");
        }
        // Every endpoint that takes any input (GET /v1/rate-card and GET /v1/teams take none).
        Assert.All(endpoints.Where(e => e.Body is not null || e.Path.Contains('{') || e.Path.Contains('?')), e => Assert.Contains(corpus, c => c.Endpoint == e));
        Assert.True(wrong.Count == 0, $"{wrong.Count} of {corpus.Count} malformed requests were answered wrongly:\n{string.Join('\n', wrong)}");

        // Anything Ingest had published for the tenant is counted before a marker published after it.
        await PostAsync(system.Ingest, "/v1/usage", MeteringSystem.EmitterToken, new
        {
            events = new[] { new { id = "corpus-marker", tenant = _tenant, meter = "input_tokens", quantity = 1, timestamp = DateTimeOffset.UtcNow.AddSeconds(-1), model = "corpus-model" } },
        }, HttpStatusCode.Accepted);
        await WaitUntilAsync(async () => (await GetAsync(system.Budgets, $"/v1/tenants/{_tenant}/budget")).Contains("\"used\":1001"));
        await WaitUntilAsync(async () => (await GetAsync(system.Billing, $"/v1/invoices/{_tenant}/{Month}")).Contains("\"quantity\":1001"));
        var after = await SnapshotAsync();
        foreach (var (what, value) in before)
            Assert.True(value == after[what], $"{what} changed:\nbefore {value}\nafter  {after[what]}");

        // The corpus was built from valid requests: the last two, which change what was compared, succeed as they are.
        foreach (var endpoint in endpoints.TakeLast(2))
        {
            var (status, _, body) = await SendAsync(new Case("valid", endpoint, PathOf(endpoint), endpoint.Body is null ? [] : Utf8(endpoint.Body.ToJsonString()),
                "application/json", 200, null));
            Assert.True(status == HttpStatusCode.OK, $"{endpoint}: {(int)status} {body}");
        }
    }

    /// <summary>Each valid request that creates something, so that the comparison has something to compare.</summary>
    private async Task CreateStateAsync(List<Endpoint> endpoints)
    {
        // Not the last two (finalize and void): they change what the corpus compares.
        foreach (var endpoint in endpoints.SkipLast(2).Where(e => e.Body is not null))
        {
            var (status, _, body) = await SendAsync(new Case("valid", endpoint, PathOf(endpoint), Utf8(endpoint.Body!.ToJsonString()), "application/json", 200, null));
            Assert.True((int)status is 200 or 202, $"the valid request of {endpoint} was answered {(int)status}: {body}");
        }
        await WaitUntilAsync(async () => (await GetAsync(system.Budgets, $"/v1/tenants/{_tenant}/budget")).Contains("\"used\":1000"));
        await WaitUntilAsync(async () => (await GetAsync(system.Billing, $"/v1/invoices/{_tenant}/{Month}")).Contains("\"quantity\":1000"));
        await WaitUntilAsync(async () => (await GetAsync(system.Billing, $"/v1/chargeback/{CapacityPeriod}")).Contains("\"mode\":\"showback\""));
    }

    /// <summary>What the corpus could have changed, read back; budgets and invoices by their quantities (the marker adds 1).</summary>
    private async Task<Dictionary<string, string>> SnapshotAsync()
    {
        var budget = JsonNode.Parse(await GetAsync(system.Budgets, $"/v1/tenants/{_tenant}/budget"))!;
        var invoice = JsonNode.Parse(await GetAsync(system.Billing, $"/v1/invoices/{_tenant}/{Month}"))!;
        return new Dictionary<string, string>
        {
            ["budget limits and status"] = $"{budget["status"]} {budget["limits"]!.AsArray().Select(l => $"{l!["meter"]} {l["period"]} {l["limit"]}").Aggregate("", string.Concat)}",
            // Not cost_usd: whether the marker's usage is priced depends on when Budgets heard of the rate card.
            ["budget meters"] = string.Join(",", budget["usage"]!.AsArray().Where(u => (string?)u!["meter"] != "cost_usd").Select(u => $"{u!["meter"]}/{u["period"]}")),
            ["quota history"] = await GetAsync(system.Budgets, $"/v1/tenants/{_tenant}/quota/history"),
            ["rate card"] = await GetAsync(system.Billing, "/v1/rate-card"),
            ["teams"] = await GetAsync(system.Billing, "/v1/teams"),
            ["tenant's team"] = await GetAsync(system.Billing, $"/v1/tenants/{_tenant}/team"),
            ["invoice status and lines"] = $"{invoice["status"]} {invoice["lines"]!.AsArray().Select(l => $"{l!["meter"]} {l["model"]} {l["unit_price"]}").Aggregate("", string.Concat)}",
            ["capacity month's statement"] = Without(JsonNode.Parse(await GetAsync(system.Billing, $"/v1/chargeback/{CapacityPeriod}"))!, "ledger_current"),
            ["usage behind the invoice"] = string.Join(",", JsonNode.Parse(await GetAsync(system.Billing, $"/v1/invoices/{_tenant}/{Month}/usage?limit=10000"))!["usage"]!
                .AsArray().Where(u => (string?)u!["id"] != "corpus-marker").Select(u => u!.ToJsonString())),
        };
    }

    private static string Without(JsonNode node, string property)
    {
        node.AsObject().Remove(property);
        return node.ToJsonString();
    }

    private async Task<string> GetAsync(ServiceProcess service, string path)
    {
        using var response = await system.Http.SendAsync(system.Request(HttpMethod.Get, service, path, MeteringSystem.AdminToken));
        return await response.Content.ReadAsStringAsync();
    }

    private async Task PostAsync(ServiceProcess service, string path, string token, object body, HttpStatusCode expected)
    {
        using var response = await system.Http.SendAsync(system.Request(HttpMethod.Post, service, path, token,
            new StringContent(JsonSerializer.Serialize(body, Contracts.MeteringJson.Options), Encoding.UTF8, "application/json")));
        Assert.Equal(expected, response.StatusCode);
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition never held");
            await Task.Delay(100);
        }
    }
}
