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
}
