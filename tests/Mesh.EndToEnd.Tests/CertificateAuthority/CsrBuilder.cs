using System.Formats.Asn1;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Mesh.EndToEnd.Tests.CertificateAuthority;

/// <summary>PEM CSRs as a workload (or an attacker with its own key) would send them.</summary>
internal static class CsrBuilder
{
    /// <summary>A CSR whose URI SAN holds exactly these bytes: System.Uri would normalize percent-encoding and dot segments away.</summary>
    public static string PemWithRawUri(string uri)
    {
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName(""), key, HashAlgorithmName.SHA256);
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteOctetString(System.Text.Encoding.ASCII.GetBytes(uri), new Asn1Tag(TagClass.ContextSpecific, 6));
        }

        request.CertificateExtensions.Add(new X509Extension("2.5.29.17", writer.Encode(), critical: true));
        return request.CreateSigningRequestPem();
    }

    public static string Pem(string uri, string[]? dnsNames = null, IPAddress[]? ipAddresses = null)
    {
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName(""), key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddUri(new Uri(uri));
        foreach (string dns in dnsNames ?? [])
        {
            san.AddDnsName(dns);
        }

        foreach (IPAddress ip in ipAddresses ?? [])
        {
            san.AddIpAddress(ip);
        }

        request.CertificateExtensions.Add(san.Build(critical: true));
        return request.CreateSigningRequestPem();
    }
}
