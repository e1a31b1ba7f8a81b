using System.Formats.Asn1;
using System.Net;
using System.Security.Cryptography;
using Mesh.Tls.X509;

namespace Mesh.Tls.Authority;

/// <summary>
/// A parsed PKCS #10 request (RFC 2986 §4): the signed CertificationRequestInfo, its signature, the public key and the SANs
/// asked for in the extensionRequest attribute (PKCS #9).
/// </summary>
/// <remarks>
/// <code>
/// CertificationRequest ::= SEQUENCE { certificationRequestInfo, signatureAlgorithm AlgorithmIdentifier, signature BIT STRING }
/// CertificationRequestInfo ::= SEQUENCE { version INTEGER { v1(0) }, subject Name, subjectPKInfo SubjectPublicKeyInfo,
///                                         attributes [0] IMPLICIT SET OF Attribute }
/// </code>
/// </remarks>
internal sealed class CertificationRequest
{
    private CertificationRequest()
    {
    }

    public ReadOnlyMemory<byte> Info { get; private set; }

    public string SignatureAlgorithm { get; private set; } = string.Empty;

    public ReadOnlyMemory<byte> Signature { get; private set; }

    public ReadOnlyMemory<byte> SubjectPublicKeyInfo { get; private set; }

    public int UriCount { get; private set; }

    public int EmailCount { get; private set; }

    public string? Uri { get; private set; }

    public List<string> DnsNames { get; } = [];

    public List<IPAddress> IPAddresses { get; } = [];

    public static CertificationRequest Parse(ReadOnlyMemory<byte> der)
    {
        var request = new CertificationRequest();
        try
        {
            var outer = new AsnReader(der, AsnEncodingRules.DER);
            AsnReader sequence = outer.ReadSequence();
            outer.ThrowIfNotEmpty();

            request.Info = sequence.PeekEncodedValue();
            AsnReader info = sequence.ReadSequence();
            AsnReader algorithm = sequence.ReadSequence();
            request.SignatureAlgorithm = algorithm.ReadObjectIdentifier();
            request.Signature = sequence.ReadBitString(out int unused);
            if (unused != 0)
            {
                throw new AsnContentException("The signature BIT STRING has unused bits.");
            }

            sequence.ThrowIfNotEmpty();

            if (!info.TryReadInt32(out int version) || version != 0)
            {
                throw new AsnContentException("Only PKCS #10 v1 requests are supported.");
            }

            info.ReadEncodedValue();
            request.SubjectPublicKeyInfo = info.ReadEncodedValue();
            if (info.HasData)
            {
                AsnReader attributes = info.ReadSetOf(new Asn1Tag(TagClass.ContextSpecific, 0));
                while (attributes.HasData)
                {
                    AsnReader attribute = attributes.ReadSequence();
                    string type = attribute.ReadObjectIdentifier();
                    AsnReader values = attribute.ReadSetOf();
                    if (type == Oids.Pkcs9ExtensionRequest)
                    {
                        ReadExtensions(request, values.ReadSequence());
                    }
                }
            }

            info.ThrowIfNotEmpty();
            return request;
        }
        catch (AsnContentException ex)
        {
            throw new CertificateSigningException(CertificateSigningError.MalformedRequest, $"The CSR is not valid DER PKCS #10: {ex.Message}");
        }
    }

    private static void ReadExtensions(CertificationRequest request, AsnReader extensions)
    {
        while (extensions.HasData)
        {
            AsnReader extension = extensions.ReadSequence();
            string oid = extension.ReadObjectIdentifier();
            if (extension.PeekTag().HasSameClassAndValue(Asn1Tag.Boolean))
            {
                extension.ReadBoolean();
            }

            byte[] value = extension.ReadOctetString();
            if (oid != Oids.SubjectAltName)
            {
                continue;
            }

            AsnReader names = new AsnReader(value, AsnEncodingRules.DER).ReadSequence();
            while (names.HasData)
            {
                Asn1Tag tag = names.PeekTag();
                if (tag.HasSameClassAndValue(SubjectAltNames.UniformResourceIdentifier))
                {
                    string uri = names.ReadCharacterString(UniversalTagNumber.IA5String, tag);
                    if (request.UriCount++ == 0)
                    {
                        request.Uri = uri;
                    }
                }
                else if (tag.HasSameClassAndValue(SubjectAltNames.Rfc822Name))
                {
                    request.EmailCount++;
                    names.ReadEncodedValue();
                }
                else if (tag.HasSameClassAndValue(SubjectAltNames.DnsName))
                {
                    request.DnsNames.Add(names.ReadCharacterString(UniversalTagNumber.IA5String, tag));
                }
                else if (tag.HasSameClassAndValue(SubjectAltNames.IPAddress))
                {
                    byte[] address = names.ReadOctetString(tag);
                    if (address.Length is not (4 or 16))
                    {
                        throw new AsnContentException("An IP address SAN is neither 4 nor 16 bytes.");
                    }

                    request.IPAddresses.Add(new IPAddress(address));
                }
                else
                {
                    names.ReadEncodedValue();
                }
            }
        }
    }

    /// <summary>Imports the public key, checking it is a key type the mesh accepts, and verifies the request's signature.</summary>
    public AsymmetricAlgorithm ImportAndVerify()
    {
        HashAlgorithmName hash;
        bool ec;
        switch (SignatureAlgorithm)
        {
            case Oids.EcdsaWithSha256: hash = HashAlgorithmName.SHA256; ec = true; break;
            case Oids.EcdsaWithSha384: hash = HashAlgorithmName.SHA384; ec = true; break;
            case Oids.EcdsaWithSha512: hash = HashAlgorithmName.SHA512; ec = true; break;
            case Oids.Sha256WithRsa: hash = HashAlgorithmName.SHA256; ec = false; break;
            case Oids.Sha384WithRsa: hash = HashAlgorithmName.SHA384; ec = false; break;
            case Oids.Sha512WithRsa: hash = HashAlgorithmName.SHA512; ec = false; break;
            default:
                throw new CertificateSigningException(CertificateSigningError.UnsupportedSignatureAlgorithm,
                    $"The CSR is signed with algorithm {SignatureAlgorithm}; only ECDSA or RSA PKCS #1 v1.5 with SHA-2 are accepted.");
        }

        AsymmetricAlgorithm key = ImportKey(ec);
        bool valid = key is ECDsa ecdsa
            ? ecdsa.VerifyData(Info.Span, Signature.Span, hash, DSASignatureFormat.Rfc3279DerSequence)
            : ((RSA)key).VerifyData(Info.Span, Signature.Span, hash, RSASignaturePadding.Pkcs1);
        if (!valid)
        {
            key.Dispose();
            throw new CertificateSigningException(CertificateSigningError.BadSignature, "The CSR's signature does not verify with its own public key.");
        }

        return key;
    }

    private AsymmetricAlgorithm ImportKey(bool ec)
    {
        string? type = PublicKeyInfo.Classify(SubjectPublicKeyInfo.Span);
        if (type is null || (type == "RSA") == ec)
        {
            throw new CertificateSigningException(CertificateSigningError.UnsupportedKey,
                $"The CSR's public key is {type ?? "of an unsupported type"} and its signature algorithm is {SignatureAlgorithm}; keys must be EC P-256, P-384, P-521 or RSA.");
        }

        AsymmetricAlgorithm key = ec ? ECDsa.Create() : RSA.Create();
        try
        {
            if (key is ECDsa ecdsa)
            {
                ecdsa.ImportSubjectPublicKeyInfo(SubjectPublicKeyInfo.Span, out _);
            }
            else
            {
                ((RSA)key).ImportSubjectPublicKeyInfo(SubjectPublicKeyInfo.Span, out _);
                if (key.KeySize < 2048)
                {
                    throw new CertificateSigningException(CertificateSigningError.UnsupportedKey, $"RSA keys must have at least 2048 bits; this one has {key.KeySize}.");
                }
            }

            return key;
        }
        catch (CryptographicException ex)
        {
            key.Dispose();
            throw new CertificateSigningException(CertificateSigningError.UnsupportedKey, $"The CSR's public key cannot be imported: {ex.Message}");
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }
}
