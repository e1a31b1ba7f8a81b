using System.Net;

namespace Mesh.Tls.Authority;

/// <summary>What differs between the certificates the CA issues; <see cref="CertificateEncoder"/> writes the rest.</summary>
internal ref struct CertificateProfile
{
    /// <summary>A CA certificate (cA=true, keyCertSign|cRLSign|digitalSignature) or a leaf (Consul's leaf profile).</summary>
    public bool IsCa;

    /// <summary>The subject Name DER; empty means an empty subject, which makes the SAN extension critical (RFC 5280 §4.2.1.6).</summary>
    public ReadOnlySpan<byte> Subject;

    public ReadOnlySpan<byte> SubjectPublicKeyInfo;

    /// <summary>The SubjectKeyId, when already known (a cross-signed root keeps its own); computed from the SPKI otherwise.</summary>
    public ReadOnlySpan<byte> SubjectKeyId;

    /// <summary>The URI SAN, already checked to be a SPIFFE ID (ASCII).</summary>
    public string Uri;

    public IReadOnlyList<string>? DnsNames;

    public IReadOnlyList<IPAddress>? IPAddresses;

    public DateTimeOffset NotBefore;

    public DateTimeOffset NotAfter;
}
