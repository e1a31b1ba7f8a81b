using System.Security.Cryptography.X509Certificates;

namespace Mesh.Tls.Authority;

/// <summary>One root of the mesh CA as Consul's <c>/v1/agent/connect/ca/roots</c> lists it.</summary>
public sealed class MeshCaRoot
{
    internal MeshCaRoot(CaSigningKey rootKey, byte[] rootDer, CaSigningKey? intermediateKey, byte[]? intermediateDer)
    {
        RootKey = rootKey;
        RootDer = rootDer;
        IntermediateKey = intermediateKey;
        IntermediateDer = intermediateDer;
        Certificate = X509CertificateLoader.LoadCertificate(rootDer);
    }

    /// <summary>The self-signed root certificate (no private key).</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The SubjectKeyId of the certificate that signs leaves under this root: the AuthorityKeyId of its leaves.</summary>
    public ReadOnlyMemory<byte> SigningKeyId => LeafSigner.SubjectKeyId;

    /// <summary>Whether this root is the active one (signs new leaves).</summary>
    public bool Active { get; internal set; }

    /// <summary>When the root stopped being active; null while active.</summary>
    public DateTimeOffset? RotatedOutAt { get; internal set; }

    /// <summary>The intermediates of this root as Consul lists them: the cross-signed root first, then the leaf-signing intermediate.</summary>
    public IReadOnlyList<X509Certificate2> IntermediateCertificates
    {
        get
        {
            var list = new List<X509Certificate2>(2);
            if (CrossSignedDer is not null)
            {
                list.Add(X509CertificateLoader.LoadCertificate(CrossSignedDer));
            }

            if (IntermediateDer is not null)
            {
                list.Add(X509CertificateLoader.LoadCertificate(IntermediateDer));
            }

            return list;
        }
    }

    /// <summary>The root certificate, PEM.</summary>
    public string ToPem() => MeshPem.EncodeCertificates([RootDer]);

    internal CaSigningKey RootKey { get; }

    internal byte[] RootDer { get; }

    internal CaSigningKey? IntermediateKey { get; }

    internal byte[]? IntermediateDer { get; }

    internal byte[]? CrossSignedDer { get; set; }

    internal DateTimeOffset CrossSignedNotAfter { get; set; }

    internal CaSigningKey LeafSigner => IntermediateKey ?? RootKey;

    internal byte[] LeafSignerName { get; set; } = [];
}
