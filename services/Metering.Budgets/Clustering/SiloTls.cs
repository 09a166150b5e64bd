using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Orleans.Connections.Security;

namespace Metering.Budgets.Clustering;

/// <summary>
/// TLS on the silo-to-silo links, both ways (each silo presents its certificate and requires the other's): on by default
/// outside Development, where the certificate comes from PEM files (a mounted Kubernetes TLS Secret: tls.crt, tls.key,
/// and ca.crt where the silos' certificates are issued by a CA). A silo accepts a peer whose certificate chains to the
/// configured CA or, without one, a peer presenting the very same certificate (one shared silo certificate).
/// </summary>
public static class SiloTls
{
    /// <summary><c>true</c> or <c>false</c>; default: on outside Development.</summary>
    public const string EnabledVariable = "METERING_ORLEANS_TLS";
    public const string CertificateVariable = "METERING_ORLEANS_TLS_CERTIFICATE";
    public const string KeyVariable = "METERING_ORLEANS_TLS_KEY";
    public const string CaVariable = "METERING_ORLEANS_TLS_CA";

    public static bool Enabled(IConfiguration configuration, bool isDevelopment) =>
        MeteringSettings.Flag(configuration, EnabledVariable, unset: !isDevelopment);

    /// <summary>Refuses to start (before the silo opens its port) when TLS is on and the certificate cannot be read.</summary>
    public static ISiloBuilder UseSiloTls(this ISiloBuilder silo, IConfiguration configuration, bool isDevelopment)
    {
        if (!Enabled(configuration, isDevelopment)) return silo;
        var certificatePath = configuration[CertificateVariable];
        if (string.IsNullOrEmpty(certificatePath))
            throw new InvalidOperationException(
                $"Silo-to-silo TLS is on ({(isDevelopment ? $"{EnabledVariable}=true" : "the default outside Development")}) but {CertificateVariable} is not set: " +
                $"set {CertificateVariable} and {KeyVariable} to the silo certificate's PEM files (e.g. a mounted TLS Secret), " +
                $"or {EnabledVariable}=false to run the silos without TLS.");
        var certificate = Read(CertificateVariable, () => X509Certificate2.CreateFromPemFile(certificatePath, configuration[KeyVariable] is { Length: > 0 } key ? key : null));
        if (!certificate.HasPrivateKey)
            throw new InvalidOperationException($"{CertificateVariable}: the certificate has no private key; set {KeyVariable} to its key's PEM file.");
        var authorities = configuration[CaVariable] is { Length: > 0 } caPath ? Read(CaVariable, () => ReadAuthorities(caPath)) : null;
        var peers = new SiloPeers(certificate, authorities);
        return silo.UseTls(certificate, options =>
        {
            options.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
            options.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
            options.RemoteCertificateValidation = (remote, _, _) => peers.Accepts(remote);
        });
    }

    private static X509Certificate2Collection ReadAuthorities(string path)
    {
        var authorities = new X509Certificate2Collection();
        authorities.ImportFromPemFile(path);
        return authorities.Count > 0 ? authorities : throw new CryptographicException("the file holds no certificate");
    }

    private static T Read<T>(string variable, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new InvalidOperationException($"{variable}: cannot read the PEM file ({e.Message}).", e);
        }
    }
}

/// <summary>Which certificates a silo accepts from a peer (<see cref="SiloTls"/>); host names play no part, pod IPs change.</summary>
public sealed class SiloPeers(X509Certificate2 own, X509Certificate2Collection? authorities)
{
    public bool Accepts(X509Certificate2 remote)
    {
        if (authorities is null) return remote.RawDataMemory.Span.SequenceEqual(own.RawDataMemory.Span);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(remote);
    }
}
