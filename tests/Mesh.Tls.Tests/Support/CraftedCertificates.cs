using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Mesh.Tls.Authority;

namespace Mesh.Tls.Tests.Support;

/// <summary>What a crafted certificate should look like; each field defaults to a valid X.509-SVID leaf.</summary>
internal sealed class LeafSpec
{
    public string[] Uris { get; set; } = [];
    public string[] Dns { get; set; } = [];
    public bool SanCritical { get; set; } = true;
    public bool IncludeSan { get; set; } = true;
    public string Subject { get; set; } = "";
    public bool? IsCa { get; set; } = false;
    public X509KeyUsageFlags? KeyUsage { get; set; } = X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment;
    public string[]? Eku { get; set; } = ["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"];
    public DateTimeOffset NotBefore { get; set; } = DateTimeOffset.UtcNow.AddMinutes(-5);
    public DateTimeOffset NotAfter { get; set; } = DateTimeOffset.UtcNow.AddHours(1);
    public AsymmetricAlgorithm? Key { get; set; }
    public bool Sha1 { get; set; }
}

/// <summary>Crafts certificates the mesh CA would never issue, with SANs encoded by hand so nothing is normalised.</summary>
internal static class CraftedCertificates
{
    /// <summary>Signs a leaf with the leaf-signing key of a CA root.</summary>
    public static X509Certificate2 Leaf(MeshCaRoot issuer, LeafSpec spec)
    {
        CaSigningKey signer = issuer.LeafSigner;
        X500DistinguishedName issuerName = new(issuer.LeafSignerName);
        return Sign(signer.Key, signer.SubjectKeyId, issuerName, spec);
    }

    public static X509Certificate2 Sign(AsymmetricAlgorithm issuerKey, byte[] issuerKeyId, X500DistinguishedName issuerName, LeafSpec spec)
    {
        AsymmetricAlgorithm key = spec.Key ?? ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var name = new X500DistinguishedName(spec.Subject);
        CertificateRequest request = key is RSA rsa
            ? new CertificateRequest(name, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            : new CertificateRequest(name, (ECDsa)key, HashAlgorithmName.SHA256);
        if (spec.IsCa is bool ca)
        {
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(ca, false, 0, true));
        }

        if (spec.KeyUsage is X509KeyUsageFlags usage)
        {
            request.CertificateExtensions.Add(new X509KeyUsageExtension(usage, true));
        }

        if (spec.Eku is string[] eku)
        {
            var oids = new OidCollection();
            foreach (string oid in eku)
            {
                oids.Add(new Oid(oid));
            }

            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(oids, false));
        }

        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromSubjectKeyIdentifier(issuerKeyId));
        if (spec.IncludeSan)
        {
            request.CertificateExtensions.Add(new X509Extension("2.5.29.17", TestCsr.EncodeSan(spec.Uris, spec.Dns), spec.SanCritical));
        }

        X509SignatureGenerator generator = spec.Sha1 ? new Sha1EcdsaGenerator((ECDsa)issuerKey)
            : issuerKey is RSA issuerRsa ? X509SignatureGenerator.CreateForRSA(issuerRsa, RSASignaturePadding.Pkcs1)
            : X509SignatureGenerator.CreateForECDsa((ECDsa)issuerKey);
        byte[] serial = RandomNumberGenerator.GetBytes(12);
        serial[0] &= 0x7F;
        using X509Certificate2 certificate = request.Create(issuerName, generator, spec.NotBefore, spec.NotAfter, serial);
        return key switch
        {
            RSA r => certificate.CopyWithPrivateKey(r),
            ECDsa e => certificate.CopyWithPrivateKey(e),
            _ => throw new NotSupportedException(),
        };
    }

    private sealed class Sha1EcdsaGenerator(ECDsa key) : X509SignatureGenerator
    {
        public override byte[] GetSignatureAlgorithmIdentifier(HashAlgorithmName hashAlgorithm)
        {
            var writer = new AsnWriter(AsnEncodingRules.DER);
            using (writer.PushSequence())
            {
                writer.WriteObjectIdentifier("1.2.840.10045.4.1");
            }

            return writer.Encode();
        }

        public override byte[] SignData(byte[] data, HashAlgorithmName hashAlgorithm) =>
            key.SignData(data, HashAlgorithmName.SHA1, DSASignatureFormat.Rfc3279DerSequence);

        protected override PublicKey BuildPublicKey() => X509SignatureGenerator.CreateForECDsa(key).PublicKey;
    }
}
