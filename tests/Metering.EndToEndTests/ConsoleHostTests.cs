namespace Metering.EndToEndTests;

/// <summary>
/// The console's host in front of the real services: sign-in and its cookie, the session, the API proxy with its
/// bearer token and CSRF check, sign-out, the app's files with their fallback and cache headers, and the security headers.
/// Cookies are carried by hand, as a browser would, so that every Set-Cookie is seen.
/// </summary>
[Collection(MeteringSystemCollection.Name)]
public sealed class ConsoleHostTests(MeteringSystem system, ConsoleHost console) : IClassFixture<ConsoleHost>, IDisposable
{
    private static readonly string ViewerToken = MeteringSystem.ViewerTokens["e2e-research"];
    private readonly HttpClient _browser = new(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(30) };
    private readonly string _tenant = $"e2e-console-{Guid.NewGuid():N}"[..40];

    public void Dispose() => _browser.Dispose();

    [Fact]
    public async Task A_wrong_token_is_401_problem_and_sets_no_cookie_an_emitter_token_403_and_no_token_400_naming_the_field()
    {
        using (var wrong = await SignIn("not-a-known-token"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
            Assert.Equal("application/problem+json", wrong.Content.Headers.ContentType?.MediaType);
            Assert.False(wrong.Headers.Contains("Set-Cookie"));
        }
        using (var emitter = await SignIn(MeteringSystem.EmitterToken))
        {
            Assert.Equal(HttpStatusCode.Forbidden, emitter.StatusCode);
            Assert.False(emitter.Headers.Contains("Set-Cookie"));
            Assert.DoesNotContain(MeteringSystem.EmitterToken, await emitter.Content.ReadAsStringAsync());
        }
        using (var empty = await Send(HttpMethod.Post, "/auth/sign-in", content: Json(new { token = "" })))
        {
            Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
            using var problem = JsonDocument.Parse(await empty.Content.ReadAsStringAsync());
            Assert.True(problem.RootElement.GetProperty("errors").TryGetProperty("token", out _));
            Assert.False(empty.Headers.Contains("Set-Cookie"));
        }
        using (var crossSite = await Send(HttpMethod.Post, "/auth/sign-in", content: Json(new { token = MeteringSystem.AdminToken }),
                   headers: new() { ["Origin"] = "https://evil.example" }))
        {
            Assert.Equal(HttpStatusCode.Forbidden, crossSite.StatusCode);
            Assert.False(crossSite.Headers.Contains("Set-Cookie"));
        }
    }

    [Theory]
    [InlineData("admin", null, false)]
    [InlineData("viewer", "e2e-research", true)]
    public async Task Sign_in_sets_an_HttpOnly_SameSite_Strict_session_cookie_and_the_token_reaches_no_response(string role, string? team, bool asForm)
    {
        var token = role == "admin" ? MeteringSystem.AdminToken : ViewerToken;
        using var signIn = await SignIn(token, asForm);
        Assert.Equal(HttpStatusCode.OK, signIn.StatusCode);
        var setCookie = Assert.Single(signIn.Headers.GetValues("Set-Cookie"), c => c.StartsWith("metering.session=", StringComparison.Ordinal));
        var attributes = setCookie.Split(';', StringSplitOptions.TrimEntries).Skip(1).Select(a => a.ToLowerInvariant()).ToList();
        Assert.Contains("httponly", attributes);
        Assert.Contains("samesite=strict", attributes);
        Assert.Contains("path=/", attributes);
        Assert.DoesNotContain("secure", attributes); // plain http here; Secure when the request is HTTPS
        var me = await signIn.Content.ReadFromJsonAsync<MeView>(MeteringJson.Options);
        Assert.Equal(new MeView(role, team), me);

        var cookies = new Cookies(signIn);
        using var session = await Send(HttpMethod.Get, "/auth/session", cookies);
        Assert.Equal(HttpStatusCode.OK, session.StatusCode);
        cookies.Add(session);
        using var view = JsonDocument.Parse(await session.Content.ReadAsStringAsync());
        Assert.Equal(role, view.RootElement.GetProperty("role").GetString());
        Assert.Equal(team, view.RootElement.TryGetProperty("team", out var t) ? t.GetString() : null);
        Assert.False(string.IsNullOrEmpty(view.RootElement.GetProperty("csrf").GetString()));

        using var proxied = await Send(HttpMethod.Get, "/api/billing/v1/me", cookies);
        using var page = await Send(HttpMethod.Get, "/tenants/acme", cookies);
        foreach (var response in new[] { signIn, session, proxied, page })
        {
            var headers = string.Join('\n', response.Headers.Concat(response.Content.Headers).SelectMany(h => h.Value.Select(v => $"{h.Key}: {v}")));
            Assert.DoesNotContain(token, headers);
            Assert.DoesNotContain(token, await response.Content.ReadAsStringAsync());
        }

        // Nor the host's log, which the e2e processes write at Information (every request logged).
        var host = await console.HostAsync(system);
        await using var stream = new FileStream(host.LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var log = await new StreamReader(stream).ReadToEndAsync();
        Assert.Contains("/auth/sign-in", log);
        Assert.False(log.Contains(token, StringComparison.Ordinal), "the console host's log holds the token");
    }

    [Fact]
    public async Task A_proxied_call_carries_the_session_token_and_never_the_browser_Authorization_header()
    {
        var viewer = await SignedIn(ViewerToken);
        using (var billing = await Send(HttpMethod.Get, "/api/billing/v1/me", viewer, headers: new() { ["Authorization"] = $"Bearer {MeteringSystem.AdminToken}" }))
        {
            Assert.Equal(HttpStatusCode.OK, billing.StatusCode);
            Assert.Equal(new MeView("viewer", "e2e-research"), await billing.Content.ReadFromJsonAsync<MeView>(MeteringJson.Options));
        }
        var admin = await SignedIn(MeteringSystem.AdminToken);
        using (var budgets = await Send(HttpMethod.Get, "/api/budgets/v1/me", admin))
            Assert.Equal(new MeView("admin"), await budgets.Content.ReadFromJsonAsync<MeView>(MeteringJson.Options));
        using (var ingest = await Send(HttpMethod.Get, "/api/ingest/v1/me", admin))
            Assert.Equal(new MeView("admin"), await ingest.Content.ReadFromJsonAsync<MeView>(MeteringJson.Options));
        // An answer the service gives passes through as it is: Billing's 404 problem, not the app's page.
        using var missing = await Send(HttpMethod.Get, "/api/billing/v1/no-such-route", admin);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.DoesNotContain(ConsoleHost.IndexMarker, await missing.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_proxied_PUT_without_the_csrf_header_is_refused_and_changes_nothing_with_it_it_passes_and_a_viewer_gets_the_API_403()
    {
        var admin = await SignedIn(MeteringSystem.AdminToken);
        var path = $"/api/budgets/v1/tenants/{_tenant}/quota";
        using (var without = await Send(HttpMethod.Put, path, admin, Quota()))
        {
            Assert.Equal(HttpStatusCode.BadRequest, without.StatusCode);
            Assert.Equal("application/problem+json", without.Content.Headers.ContentType?.MediaType);
        }
        using (var wrong = await Send(HttpMethod.Put, path, admin, Quota(), new() { ["X-CSRF-TOKEN"] = "forged" }))
            Assert.Equal(HttpStatusCode.BadRequest, wrong.StatusCode);
        Assert.Empty((await Budget()).Limits);

        using (var with = await Send(HttpMethod.Put, path, admin, Quota(), new() { ["X-CSRF-TOKEN"] = admin.Csrf }))
            Assert.Equal(HttpStatusCode.OK, with.StatusCode);
        Assert.Equal(1000m, Assert.Single((await Budget()).Limits).Limit);

        var viewer = await SignedIn(ViewerToken);
        using (var refused = await Send(HttpMethod.Put, path, viewer, Quota(5000), new() { ["X-CSRF-TOKEN"] = viewer.Csrf }))
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.DoesNotContain("Missing or invalid antiforgery token", await refused.Content.ReadAsStringAsync());
        }
        // One session's token does not pass for another's.
        using (var crossed = await Send(HttpMethod.Put, path, admin, Quota(7000), new() { ["X-CSRF-TOKEN"] = viewer.Csrf }))
            Assert.Equal(HttpStatusCode.BadRequest, crossed.StatusCode);
        Assert.Equal(1000m, Assert.Single((await Budget()).Limits).Limit);
    }

    [Fact]
    public async Task The_services_answers_pass_through_a_CSV_download_a_validation_problem_and_a_body_larger_than_the_hosts_own_limit()
    {
        var admin = await SignedIn(MeteringSystem.AdminToken);
        HttpResponseMessage csv;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            csv = await Send(HttpMethod.Get, "/api/billing/v1/chargeback/2001-01?format=csv", admin);
            if (csv.StatusCode != HttpStatusCode.ServiceUnavailable || DateTime.UtcNow > deadline) break;
            csv.Dispose(); // the ledger is catching up: Billing's 503 with Retry-After, passed through
            await Task.Delay(500);
        }
        using (csv)
        {
            Assert.Equal(HttpStatusCode.OK, csv.StatusCode);
            Assert.Equal("text/csv", csv.Content.Headers.ContentType?.MediaType);
            using var direct = await system.Http.SendAsync(system.Request(HttpMethod.Get, system.Billing, "/v1/chargeback/2001-01?format=csv", MeteringSystem.AdminToken));
            Assert.Equal(await direct.Content.ReadAsStringAsync(), await csv.Content.ReadAsStringAsync());
        }

        using (var invalid = await Send(HttpMethod.Put, $"/api/budgets/v1/tenants/{_tenant}/quota", admin,
                   Json(new { limits = new[] { new { meter = "no_such_meter", period = "day", limit = 1, enforcement = "throttle" } } }),
                   new() { ["X-CSRF-TOKEN"] = admin.Csrf }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
            Assert.Equal("application/problem+json", invalid.Content.Headers.ContentType?.MediaType);
            using var problem = JsonDocument.Parse(await invalid.Content.ReadAsStringAsync());
            Assert.NotEmpty(problem.RootElement.GetProperty("errors").EnumerateObject());
        }

        // 600 events, about 100 KB: over the 64 KB every endpoint of a host takes by default, within Ingest's 4 MB.
        var now = DateTimeOffset.UtcNow.AddSeconds(-5);
        var events = Enumerable.Range(0, 600).Select(i => new
        {
            id = $"console-batch-{Guid.NewGuid():N}", tenant = _tenant, meter = "output_tokens", quantity = 1, timestamp = now,
            model = "console-test-model", service = "console-host-tests",
        }).ToArray();
        using var batch = Json(new { events });
        Assert.True(await batch.ReadAsByteArrayAsync() is { Length: > 64 * 1024 });
        using var accepted = await Send(HttpMethod.Post, "/api/ingest/v1/usage", admin, batch, new() { ["X-CSRF-TOKEN"] = admin.Csrf });
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
    }

    [Fact]
    public async Task Without_a_session_the_proxy_answers_401_itself_and_forwards_nothing()
    {
        using (var read = await Send(HttpMethod.Get, "/api/billing/v1/me", headers: new() { ["Authorization"] = $"Bearer {MeteringSystem.AdminToken}" }))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, read.StatusCode);
            Assert.Equal("Not signed in", JsonDocument.Parse(await read.Content.ReadAsStringAsync()).RootElement.GetProperty("title").GetString());
        }
        using (var write = await Send(HttpMethod.Put, $"/api/budgets/v1/tenants/{_tenant}/quota", content: Quota(),
                   headers: new() { ["Authorization"] = $"Bearer {MeteringSystem.AdminToken}" }))
            Assert.Equal(HttpStatusCode.Unauthorized, write.StatusCode);
        Assert.Empty((await Budget()).Limits);
        using var session = await Send(HttpMethod.Get, "/auth/session");
        Assert.Equal(HttpStatusCode.Unauthorized, session.StatusCode);
    }

    [Fact]
    public async Task After_sign_out_a_copy_of_the_old_cookie_no_longer_works()
    {
        var admin = await SignedIn(MeteringSystem.AdminToken);
        var copy = new Cookies(admin);
        using (var signOut = await Send(HttpMethod.Post, "/auth/sign-out", admin))
        {
            Assert.Equal(HttpStatusCode.NoContent, signOut.StatusCode);
            Assert.Contains(signOut.Headers.GetValues("Set-Cookie"), c => c.StartsWith("metering.session=;", StringComparison.Ordinal));
        }
        using (var session = await Send(HttpMethod.Get, "/auth/session", copy))
            Assert.Equal(HttpStatusCode.Unauthorized, session.StatusCode);
        using (var proxied = await Send(HttpMethod.Get, "/api/billing/v1/me", copy))
            Assert.Equal(HttpStatusCode.Unauthorized, proxied.StatusCode);
    }

    [Fact]
    public async Task Client_routes_get_index_html_revalidated_hashed_assets_are_cached_and_host_paths_never_fall_back()
    {
        using (var route = await Send(HttpMethod.Get, "/tenants/x"))
        {
            Assert.Equal(HttpStatusCode.OK, route.StatusCode);
            Assert.Equal("text/html", route.Content.Headers.ContentType?.MediaType);
            Assert.Contains(ConsoleHost.IndexMarker, await route.Content.ReadAsStringAsync());
            Assert.True(route.Headers.CacheControl?.NoCache);
        }
        using (var root = await Send(HttpMethod.Get, "/"))
            Assert.Contains(ConsoleHost.IndexMarker, await root.Content.ReadAsStringAsync());
        using (var asset = await Send(HttpMethod.Get, ConsoleHost.AssetPath))
        {
            Assert.Equal(HttpStatusCode.OK, asset.StatusCode);
            Assert.Equal(TimeSpan.FromDays(365), asset.Headers.CacheControl?.MaxAge);
            Assert.Contains("immutable", asset.Headers.CacheControl!.Extensions.Select(e => e.Name));
        }
        using (var missingAsset = await Send(HttpMethod.Get, "/assets/app-00000000.js"))
            Assert.Equal(HttpStatusCode.NotFound, missingAsset.StatusCode);
        foreach (var path in new[] { "/api/unknown/v1/me", "/api", "/auth/nothing" })
        {
            using var response = await Send(HttpMethod.Get, path);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
    }

    [Fact]
    public async Task Every_response_carries_the_security_headers()
    {
        var admin = await SignedIn(MeteringSystem.AdminToken);
        foreach (var path in new[] { "/tenants/x", ConsoleHost.AssetPath, "/api/billing/v1/me", "/auth/session", "/api/nothing" })
        {
            using var response = await Send(HttpMethod.Get, path, admin);
            var csp = string.Join(' ', response.Headers.GetValues("Content-Security-Policy"));
            Assert.Contains("script-src 'self'", csp);
            Assert.Contains("style-src 'self'", csp);
            Assert.Contains("frame-ancestors 'none'", csp);
            Assert.DoesNotContain("unsafe-inline", csp);
            Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
            Assert.Equal("no-referrer", Assert.Single(response.Headers.GetValues("Referrer-Policy")));
        }
    }

    [Fact]
    public async Task Without_a_build_every_page_is_a_503_that_says_to_run_metering_up()
    {
        var host = await console.StartAsync(system, Path.Combine(console.Dist, "no-build-here"));
        using var response = await _browser.GetAsync(new Uri(host.Url, "/tenants/x"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("./metering up", await response.Content.ReadAsStringAsync());
    }

    private async Task<Cookies> SignedIn(string token)
    {
        using var signIn = await SignIn(token);
        Assert.Equal(HttpStatusCode.OK, signIn.StatusCode);
        var cookies = new Cookies(signIn);
        using var session = await Send(HttpMethod.Get, "/auth/session", cookies);
        Assert.Equal(HttpStatusCode.OK, session.StatusCode);
        cookies.Add(session);
        cookies.Csrf = JsonDocument.Parse(await session.Content.ReadAsStringAsync()).RootElement.GetProperty("csrf").GetString()!;
        return cookies;
    }

    private Task<HttpResponseMessage> SignIn(string token, bool asForm = false) =>
        Send(HttpMethod.Post, "/auth/sign-in", content: asForm
            ? new FormUrlEncodedContent([new KeyValuePair<string, string>("token", token)])
            : Json(new { token }));

    private async Task<HttpResponseMessage> Send(HttpMethod method, string path, Cookies? cookies = null, HttpContent? content = null,
        Dictionary<string, string>? headers = null)
    {
        var host = await console.HostAsync(system);
        using var request = new HttpRequestMessage(method, new Uri(host.Url, path)) { Content = content };
        if (cookies is not null) request.Headers.Add("Cookie", cookies.Header);
        foreach (var (name, value) in headers ?? []) request.Headers.TryAddWithoutValidation(name, value);
        return await _browser.SendAsync(request);
    }

    private async Task<BudgetView> Budget()
    {
        using var response = await system.Http.SendAsync(system.Request(HttpMethod.Get, system.Budgets, $"/v1/tenants/{_tenant}/budget", MeteringSystem.AdminToken));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<BudgetView>(MeteringJson.Options))!;
    }

    private static StringContent Quota(decimal limit = 1000) =>
        Json(new { limits = new[] { new { meter = "input_tokens", period = "day", limit, enforcement = "throttle" } } });

    private static StringContent Json(object body) => new(JsonSerializer.Serialize(body, MeteringJson.Options), Encoding.UTF8, "application/json");

    /// <summary>The cookies a browser would send back: name=value of every Set-Cookie seen, later ones replacing earlier ones.</summary>
    private sealed class Cookies
    {
        private readonly Dictionary<string, string> _values = [];

        public Cookies(HttpResponseMessage response) => Add(response);

        public Cookies(Cookies other)
        {
            foreach (var (name, value) in other._values) _values[name] = value;
            Csrf = other.Csrf;
        }

        public string Csrf { get; set; } = "";

        public string Header => string.Join("; ", _values.Select(c => $"{c.Key}={c.Value}"));

        public void Add(HttpResponseMessage response)
        {
            if (!response.Headers.TryGetValues("Set-Cookie", out var setCookies)) return;
            foreach (var setCookie in setCookies)
            {
                var pair = setCookie.Split(';', 2)[0];
                var equals = pair.IndexOf('=');
                _values[pair[..equals]] = pair[(equals + 1)..];
            }
        }
    }
}
