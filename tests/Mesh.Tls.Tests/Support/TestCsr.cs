using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Mesh.Tls.Tests.Support;

/// <summary>Builds PKCS #10 requests with SANs encoded by hand, so malformed URIs reach the CA byte for byte.</summary>
internal static class TestCsr
{
    public static byte[] Create(AsymmetricAlgorithm key, string[] uris, string[]? dns = null, string[]? emails = null, HashAlgorithmName? hash = null)
    {
        var request = key is RSA rsa
            ? new CertificateRequest(new X500DistinguishedName(""), rsa, hash ?? HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            : new CertificateRequest(new X500DistinguishedName(""), (ECDsa)key, hash ?? HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509Extension("2.5.29.17", EncodeSan(uris, dns, emails), critical: true));
        return request.CreateSigningRequest();
    }

    public static byte[] EncodeSan(string[] uris, string[]? dns = null, string[]? emails = null, byte[][]? ips = null)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            foreach (string e in emails ?? [])
            {
                writer.WriteCharacterString(UniversalTagNumber.IA5String, e, new Asn1Tag(TagClass.ContextSpecific, 1));
            }

            foreach (string d in dns ?? [])
            {
                writer.WriteCharacterString(UniversalTagNumber.IA5String, d, new Asn1Tag(TagClass.ContextSpecific, 2));
            }

            foreach (string u in uris)
            {
                // Raw bytes: the SPIFFE rules must see exactly what a peer could send, including non-ASCII.
                writer.WriteOctetString(System.Text.Encoding.Latin1.GetBytes(u), new Asn1Tag(TagClass.ContextSpecific, 6));
            }

            foreach (byte[] ip in ips ?? [])
            {
                writer.WriteOctetString(ip, new Asn1Tag(TagClass.ContextSpecific, 7));
            }
        }

        return writer.Encode();
    }

    /// <summary>Re-signs a request's info with ECDSA and SHA-1, which .NET's builder refuses to produce.</summary>
    public static byte[] ResignWithSha1(byte[] csr, ECDsa key)
    {
        AsnReader sequence = new AsnReader(csr, AsnEncodingRules.DER).ReadSequence();
        ReadOnlyMemory<byte> info = sequence.ReadEncodedValue();
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteEncodedValue(info.Span);
            using (writer.PushSequence())
            {
                writer.WriteObjectIdentifier("1.2.840.10045.4.1");
            }

            writer.WriteBitString(key.SignData(info.Span, HashAlgorithmName.SHA1, DSASignatureFormat.Rfc3279DerSequence));
        }

        return writer.Encode();
    }
}
