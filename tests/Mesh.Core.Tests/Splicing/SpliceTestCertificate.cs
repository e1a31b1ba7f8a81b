using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Mesh.Core.Tests.Splicing;

/// <summary>The self-signed server certificate of the TLS splice tests (Mesh.Core has no CA of its own to mint one).</summary>
internal static class SpliceTestCertificate
{
    /// <summary>The name the certificate is for, and the one the tests' clients ask for.</summary>
    public const string Name = "splice.test";

    /// <summary>A P-256 certificate for <see cref="Name"/>, valid for an hour.</summary>
    public static X509Certificate2 Create()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={Name}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(Name);
        request.CertificateExtensions.Add(san.Build());
        using X509Certificate2 ephemeral = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));

        // Through PKCS#12 so that the private key is usable by the TLS stack on every platform.
        return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>
    /// Runs a TLS 1.3 handshake between <paramref name="server"/>, presenting <paramref name="certificate"/>, and
    /// <paramref name="client"/>, which accepts that certificate only. Returns once the client is done, with the server's side
    /// still in flight: its session tickets may still be on their way, which is what some tests want to race.
    /// </summary>
    public static async Task<Task> HandshakeAsync(SslStream server, SslStream client, X509Certificate2 certificate)
    {
        Task serverSide = server.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
        {
            ServerCertificate = certificate,
            EnabledSslProtocols = SslProtocols.Tls13,
        });
        await client.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = Name,
            EnabledSslProtocols = SslProtocols.Tls13,
            RemoteCertificateValidationCallback = (_, presented, _, _) => presented is not null && presented.GetCertHashString() == certificate.GetCertHashString(),
        });
        return serverSide;
    }
}
