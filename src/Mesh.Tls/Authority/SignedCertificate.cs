using System.Security.Cryptography.X509Certificates;
using Mesh.Identity;

namespace Mesh.Tls.Authority;

/// <summary>A certificate the CA issued: the leaf DER, the intermediates to send after it, and its identity and validity.</summary>
public sealed class SignedCertificate
{
    internal SignedCertificate(byte[] der, IReadOnlyList<byte[]> intermediates, SpiffeId id, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        Der = der;
        IntermediatesDer = intermediates;
        Id = id;
        NotBefore = notBefore;
        NotAfter = notAfter;
    }

    /// <summary>The leaf certificate, DER.</summary>
    public ReadOnlyMemory<byte> CertificateDer => Der;

    /// <summary>The intermediates of the active root (DER), leaf-side first; empty when the root signs leaves itself.</summary>
    public IReadOnlyList<ReadOnlyMemory<byte>> Intermediates
    {
        get
        {
            var list = new ReadOnlyMemory<byte>[IntermediatesDer.Count];
            for (int i = 0; i < list.Length; i++)
            {
                list[i] = IntermediatesDer[i];
            }

            return list;
        }
    }

    /// <summary>The SPIFFE ID in the leaf's URI SAN.</summary>
    public SpiffeId Id { get; }

    /// <summary>The start of validity (issue time minus one minute, as Consul).</summary>
    public DateTimeOffset NotBefore { get; }

    /// <summary>The end of validity.</summary>
    public DateTimeOffset NotAfter { get; }

    internal byte[] Der { get; }

    internal IReadOnlyList<byte[]> IntermediatesDer { get; }

    /// <summary>The leaf followed by the intermediates, PEM, as Consul's leaf endpoint returns <c>CertPEM</c>.</summary>
    public string ToPem() => MeshPem.EncodeCertificates([Der, .. IntermediatesDer]);

    /// <summary>Loads the leaf (without a private key).</summary>
    public X509Certificate2 LoadCertificate() => X509CertificateLoader.LoadCertificate(Der);
}
