using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Mesh.ControlPlane;
using Mesh.Identity;
using Mesh.Tls.Authority;
using Mesh.Tls.X509;
using Microsoft.Extensions.Primitives;

namespace Mesh.Tls.Rotation;

/// <summary>
/// Issues leaves from an in-process <see cref="MeshCertificateAuthority"/> the way a remote workload would: a fresh EC P-256 key,
/// a PKCS #10 request carrying the SPIFFE ID, the CA's CSR path (signature and rules checked), the key kept on this side.
/// </summary>
public sealed class CertificateAuthorityLeafIssuer : ILeafIssuer
{
    private readonly MeshCertificateAuthority _ca;
    private readonly SpiffeId _id;
    private readonly IReadOnlyList<string> _dnsNames;
    private readonly TimeSpan? _ttl;

    /// <summary>Creates an issuer for one workload identity.</summary>
    public CertificateAuthorityLeafIssuer(MeshCertificateAuthority ca, SpiffeId id, IReadOnlyList<string>? dnsNames = null, TimeSpan? ttl = null)
    {
        ArgumentNullException.ThrowIfNull(ca);
        _ca = ca;
        _id = id.IsValid ? id : throw new ArgumentException("The workload's SPIFFE ID is missing.", nameof(id));
        _dnsNames = dnsNames ?? [];
        _ttl = ttl;
    }

    /// <inheritdoc />
    public ReadOnlyMemory<byte> ActiveSigningKeyId => _ca.ActiveSigningKeyId;

    /// <inheritdoc />
    public IChangeToken GetSigningKeyChangeToken() => _ca.GetSigningKeyChangeToken();

    /// <inheritdoc />
    public ValueTask<LeafCertificate> IssueAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        byte[] csr = CreateSigningRequest(key, _id, _dnsNames);
        SignedCertificate signed = _ca.SignCsr(csr, _ttl);
        return ValueTask.FromResult(MeshCertificateAuthority.ToLeafCertificate(signed, key));
    }

    /// <summary>A CSR with the SAN encoded by hand: <c>CertificateRequest</c>'s URI builder would rewrite the ID through <see cref="Uri"/>.</summary>
    internal static byte[] CreateSigningRequest(ECDsa key, SpiffeId id, IReadOnlyList<string> dnsNames)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteCharacterString(UniversalTagNumber.IA5String, id.Value, SubjectAltNames.UniformResourceIdentifier);
            foreach (string dns in dnsNames)
            {
                writer.WriteCharacterString(UniversalTagNumber.IA5String, dns, SubjectAltNames.DnsName);
            }
        }

        var request = new CertificateRequest(new X500DistinguishedName(string.Empty), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509Extension(Oids.SubjectAltName, writer.Encode(), critical: true));
        return request.CreateSigningRequest();
    }
}
