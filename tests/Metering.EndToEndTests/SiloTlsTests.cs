using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Metering.EndToEndTests;

/// <summary>
/// Two Budgets processes with silo-to-silo TLS on (the default outside Development) and one self-signed silo
/// certificate made here form one Orleans cluster; their silo port speaks TLS only and wants the silo certificate.
/// </summary>
public sealed class SiloTlsTests : IAsyncLifetime
{
    private readonly string _folder = Directory.CreateTempSubdirectory("metering-silo-tls-").FullName;
    private readonly string _cluster = $"tls-{Guid.NewGuid():N}";
    private readonly List<(ServiceProcess Process, int SiloPort)> _silos = [];
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private DevKafkaProcess _kafka = null!;
    private ScratchDatabase _database = null!;
    private X509Certificate2 _certificate = null!;

    public async Task InitializeAsync()
    {
        _certificate = SelfSigned("metering-budgets");
        await File.WriteAllTextAsync(Path.Combine(_folder, "tls.crt"), _certificate.ExportCertificatePem());
        await File.WriteAllTextAsync(Path.Combine(_folder, "tls.key"), _certificate.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        _kafka = await DevKafkaProcess.StartAsync();
        _database = await TestInfrastructure.CreateDatabaseAsync("metering_tls");
    }

    [Fact]
    public async Task Two_silos_with_TLS_form_one_cluster_and_the_silo_port_accepts_only_TLS_with_the_silo_certificate()
    {
        var first = Start();
        await first.WaitUntilReadyAsync(_http, TimeSpan.FromSeconds(120));
        var second = Start();
        await second.WaitUntilReadyAsync(_http, TimeSpan.FromSeconds(120));

        // A joining silo becomes Active only after it has connected to every Active silo: both Active means both links work.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (await ActiveSilos() < 2 && DateTime.UtcNow < deadline) await Task.Delay(500);
        Assert.Equal(2, await ActiveSilos());

        // A quota set through one silo is read through the other: the tenant's grain answers across the TLS link.
        for (var i = 0; i < 6; i++)
        {
            var tenant = $"tls-tenant-{i}-{Guid.NewGuid():N}"[..30];
            using var put = Request(HttpMethod.Put, first, $"/v1/tenants/{tenant}/quota",
                JsonContent.Create(new { limits = new[] { new { meter = "output_tokens", period = "day", limit = 1000 + i, enforcement = "throttle" } } }));
            using (var response = await _http.SendAsync(put)) Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var get = Request(HttpMethod.Get, second, $"/v1/tenants/{tenant}/budget");
            using var budget = await _http.SendAsync(get);
            Assert.Equal(HttpStatusCode.OK, budget.StatusCode);
            using var view = JsonDocument.Parse(await budget.Content.ReadAsStringAsync());
            var limit = view.RootElement.GetProperty("limits")[0].GetProperty("limit");
            Assert.Equal(1000 + i, limit.ValueKind == JsonValueKind.String ? decimal.Parse(limit.GetString()!, System.Globalization.CultureInfo.InvariantCulture) : limit.GetDecimal());
        }

        // The silo port speaks TLS and keeps a connection that shows the silo certificate; it drops one that shows another.
        var siloPort = SiloPort(first);
        var (thumbprint, kept) = await ConnectAsync(siloPort, _certificate);
        Assert.Equal(_certificate.Thumbprint, thumbprint);
        Assert.True(kept, "the silo dropped a connection with the silo certificate");
        using var stranger = SelfSigned("metering-budgets");
        var (_, strangerKept) = await ConnectAsync(siloPort, stranger);
        Assert.False(strangerKept, "the silo kept a connection with a certificate it does not know");
    }

    private ServiceProcess Start()
    {
        var environment = new Dictionary<string, string>
        {
            ["METERING_POSTGRES"] = _database.ConnectionString,
            ["KAFKA_BOOTSTRAP_SERVERS"] = _kafka.BootstrapServers,
            ["METERING_BUDGETS_GROUP_ID"] = _cluster,
            ["METERING_ORLEANS_CLUSTER_ID"] = _cluster,
            ["METERING_ORLEANS_SILO_PORT"] = FreePorts.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
            // Development turns TLS off by default; here it is asked for, as it is on by default in production.
            ["METERING_ORLEANS_TLS"] = "true",
            ["METERING_ORLEANS_TLS_CERTIFICATE"] = Path.Combine(_folder, "tls.crt"),
            ["METERING_ORLEANS_TLS_KEY"] = Path.Combine(_folder, "tls.key"),
        };
        var silo = ServiceProcess.Start("Budgets", environment, Path.Combine(BuildOutput.RepositoryRoot, ".metering", "logs", "e2e"));
        _silos.Add((silo, int.Parse(environment["METERING_ORLEANS_SILO_PORT"], System.Globalization.CultureInfo.InvariantCulture)));
        return silo;
    }

    private int SiloPort(ServiceProcess silo) => _silos.Single(s => s.Process == silo).SiloPort;

    private static HttpRequestMessage Request(HttpMethod method, ServiceProcess service, string path, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, new Uri(service.Url, path)) { Content = content };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "dev-admin-token");
        return request;
    }

    private async Task<long> ActiveSilos()
    {
        await using var connection = new NpgsqlConnection(_database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select count(*) from budgets.orleans_membership where cluster_id = @cluster and status = 'Active'", connection);
        command.Parameters.AddWithValue("cluster", _cluster);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>
    /// A TLS client on the silo port presenting <paramref name="clientCertificate"/>: the thumbprint of the silo's
    /// certificate, and whether the silo kept the connection for a few seconds. On Linux a server judges the client's
    /// certificate once the handshake is done, so a refusal shows as the connection closing (or a failed handshake).
    /// </summary>
    private static async Task<(string? Thumbprint, bool Kept)> ConnectAsync(int port, X509Certificate2 clientCertificate)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        await using var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false);
        try
        {
            using var handshake = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "metering-budgets",
                ClientCertificates = [clientCertificate],
                RemoteCertificateValidationCallback = (_, _, _, _) => true,
            }, handshake.Token);
        }
        catch (Exception e) when (e is AuthenticationException or IOException)
        {
            return (null, false);
        }
        var thumbprint = tls.RemoteCertificate!.GetCertHashString();
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        try
        {
            return (thumbprint, await tls.ReadAsync(new byte[64], wait.Token) > 0);
        }
        catch (OperationCanceledException)
        {
            return (thumbprint, true);
        }
        catch (IOException)
        {
            return (thumbprint, false);
        }
    }

    private static X509Certificate2 SelfSigned(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], critical: false));
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(name);
        request.CertificateExtensions.Add(san.Build());
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
    }

    public async Task DisposeAsync()
    {
        foreach (var (silo, _) in _silos) await silo.DisposeAsync();
        await _kafka.DisposeAsync();
        await _database.DisposeAsync();
        _certificate.Dispose();
        _http.Dispose();
        Directory.Delete(_folder, recursive: true);
    }
}
