using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Metering.Budgets.Clustering;
using Microsoft.Extensions.Configuration;

namespace Metering.UnitTests;

/// <summary>Which peers a silo with TLS accepts, and when TLS is on.</summary>
public sealed class SiloPeersTests
{
    [Fact]
    public void Without_a_CA_a_silo_accepts_only_its_own_shared_certificate()
    {
        using var shared = SelfSigned("metering-budgets");
        using var copy = X509CertificateLoader.LoadCertificate(shared.RawData);
        using var stranger = SelfSigned("metering-budgets");
        var peers = new SiloPeers(shared, authorities: null);

        Assert.True(peers.Accepts(copy));
        Assert.False(peers.Accepts(stranger));
    }

    [Fact]
    public void With_a_CA_a_silo_accepts_certificates_the_CA_issued_and_no_others()
    {
        using var ca = Authority("metering-silo-ca");
        using var otherCa = Authority("another-ca");
        using var own = IssuedBy(ca, "budgets-0");
        using var peer = IssuedBy(ca, "budgets-1");
        using var foreign = IssuedBy(otherCa, "budgets-1");
        using var stranger = SelfSigned("budgets-1");
        var peers = new SiloPeers(own, [X509CertificateLoader.LoadCertificate(ca.RawData)]);

        Assert.True(peers.Accepts(peer));
        Assert.False(peers.Accepts(foreign));
        Assert.False(peers.Accepts(stranger));
    }

    [Theory]
    [InlineData(null, true, false)]
    [InlineData(null, false, true)]
    [InlineData("true", true, true)]
    [InlineData("false", false, false)]
    public void TLS_is_on_by_default_outside_Development_and_either_way_when_set(string? setting, bool isDevelopment, bool expected)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [SiloTls.EnabledVariable] = setting }).Build();
        Assert.Equal(expected, SiloTls.Enabled(configuration, isDevelopment));
    }

    private static X509Certificate2 SelfSigned(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
    }

    private static X509Certificate2 Authority(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
    }

    private static X509Certificate2 IssuedBy(X509Certificate2 authority, string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        using var issued = request.Create(authority, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddHours(12), Guid.NewGuid().ToByteArray()[..8]);
        return issued.CopyWithPrivateKey(key);
    }
}
