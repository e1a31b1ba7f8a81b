using System.Formats.Asn1;

namespace Mesh.Tls.X509;

/// <summary>Reads the algorithm of a SubjectPublicKeyInfo (RFC 5280 §4.1.2.7) and, for EC keys, the named curve (RFC 5480 §2.1.1).</summary>
internal static class PublicKeyInfo
{
    /// <summary>Names the key type: <c>P-256</c>, <c>P-384</c>, <c>P-521</c>, <c>RSA</c>, or null when it is none of those.</summary>
    public static string? Classify(ReadOnlySpan<byte> spki)
    {
        try
        {
            AsnDecoder.ReadSequence(spki, AsnEncodingRules.DER, out int offset, out int length, out _);
            ReadOnlySpan<byte> content = spki.Slice(offset, length);
            AsnDecoder.ReadSequence(content, AsnEncodingRules.DER, out int algOffset, out int algLength, out _);
            ReadOnlySpan<byte> algorithm = content.Slice(algOffset, algLength);
            string oid = AsnDecoder.ReadObjectIdentifier(algorithm, AsnEncodingRules.DER, out int used);
            if (oid == Oids.Rsa)
            {
                return "RSA";
            }

            if (oid != Oids.EcPublicKey || used >= algorithm.Length)
            {
                return null;
            }

            return AsnDecoder.ReadObjectIdentifier(algorithm[used..], AsnEncodingRules.DER, out _) switch
            {
                Oids.Secp256r1 => "P-256",
                Oids.Secp384r1 => "P-384",
                Oids.Secp521r1 => "P-521",
                _ => null,
            };
        }
        catch (AsnContentException)
        {
            return null;
        }
    }
}
