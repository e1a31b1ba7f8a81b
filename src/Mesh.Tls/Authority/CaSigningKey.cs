using System.Formats.Asn1;
using System.Security.Cryptography;
using Mesh.Tls.X509;

namespace Mesh.Tls.Authority;

/// <summary>
/// A CA private key with what signing needs precomputed: the AlgorithmIdentifier DER, the SubjectPublicKeyInfo and its
/// SubjectKeyId (SHA-256 over the whole SPKI DER, as Consul computes it; .NET's Sha256 option hashes only the key bits).
/// </summary>
internal sealed class CaSigningKey : IDisposable
{
    private CaSigningKey(AsymmetricAlgorithm key, CaKeyType keyType, byte[]? subjectKeyId = null)
    {
        Key = key;
        KeyType = keyType;
        SubjectPublicKeyInfo = key.ExportSubjectPublicKeyInfo();
        SubjectKeyId = subjectKeyId ?? SHA256.HashData(SubjectPublicKeyInfo);

        // Consul signs with SHA-256 whatever the curve or modulus (SigAlgoForKey), and so does Mesh for compatibility.
        Hash = HashAlgorithmName.SHA256;
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            if (key is RSA)
            {
                writer.WriteObjectIdentifier(Oids.Sha256WithRsa);
                writer.WriteNull();
            }
            else
            {
                writer.WriteObjectIdentifier(Oids.EcdsaWithSha256);
            }
        }

        SignatureAlgorithm = writer.Encode();
        MaxSignatureLength = key is RSA ? key.KeySize / 8 : ((ECDsa)key).GetMaxSignatureSize(DSASignatureFormat.Rfc3279DerSequence);
        if (OperatingSystem.IsLinux() && key is ECDsaOpenSsl openSsl)
        {
            _fastSigner = OpenSslEcdsaSigner.TryCreate(openSsl);
        }
    }

    private readonly OpenSslEcdsaSigner? _fastSigner;

    public AsymmetricAlgorithm Key { get; }

    public CaKeyType KeyType { get; }

    public byte[] SubjectPublicKeyInfo { get; }

    public byte[] SubjectKeyId { get; }

    public byte[] SignatureAlgorithm { get; }

    public HashAlgorithmName Hash { get; }

    public int MaxSignatureLength { get; }

    public static CaSigningKey Generate(CaKeyType keyType) => new(keyType switch
    {
        CaKeyType.EcP256 => CreateEc(ECCurve.NamedCurves.nistP256),
        CaKeyType.EcP384 => CreateEc(ECCurve.NamedCurves.nistP384),
        CaKeyType.EcP521 => CreateEc(ECCurve.NamedCurves.nistP521),
        CaKeyType.Rsa2048 => RSA.Create(2048),
        CaKeyType.Rsa4096 => RSA.Create(4096),
        _ => throw new ArgumentOutOfRangeException(nameof(keyType), keyType, "Unknown CA key type."),
    }, keyType);

    // On Linux the key is made OpenSSL-backed so its handle can feed the reusable-context signer.
    private static ECDsa CreateEc(ECCurve curve) => OperatingSystem.IsLinux() ? new ECDsaOpenSsl(curve) : ECDsa.Create(curve);

    /// <summary>
    /// Wraps an existing key (loaded from PEM); the type is read from the key. <paramref name="subjectKeyId"/> is the SubjectKeyId
    /// of the key's certificate when it has one: leaves must name it as their AuthorityKeyId, whatever hash made it.
    /// </summary>
    public static CaSigningKey FromKey(AsymmetricAlgorithm key, byte[]? subjectKeyId = null)
    {
        CaKeyType type = key switch
        {
            ECDsa ec when ec.KeySize == 256 => CaKeyType.EcP256,
            ECDsa ec when ec.KeySize == 384 => CaKeyType.EcP384,
            ECDsa ec when ec.KeySize == 521 => CaKeyType.EcP521,
            RSA rsa when rsa.KeySize == 2048 => CaKeyType.Rsa2048,
            RSA rsa when rsa.KeySize == 4096 => CaKeyType.Rsa4096,
            _ => throw new ArgumentException("A CA key must be EC P-256, P-384, P-521 or RSA 2048/4096 (Consul's CA key types).", nameof(key)),
        };
        return new CaSigningKey(key, type, subjectKeyId);
    }

    /// <summary>
    /// Reads a private key from PEM. On Linux an EC key is imported into an OpenSSL-backed object, as a generated one is, so the
    /// fast signer can use its handle.
    /// </summary>
    public static AsymmetricAlgorithm ReadPrivateKey(string pem)
    {
        AsymmetricAlgorithm key = MeshPem.ReadPrivateKey(pem);
        if (OperatingSystem.IsLinux() && key is ECDsa ec and not ECDsaOpenSsl)
        {
            var openSsl = new ECDsaOpenSsl();
            try
            {
                openSsl.ImportParameters(ec.ExportParameters(includePrivateParameters: true));
            }
            catch
            {
                openSsl.Dispose();
                throw;
            }
            finally
            {
                ec.Dispose();
            }

            return openSsl;
        }

        return key;
    }

    public bool TrySign(ReadOnlySpan<byte> data, Span<byte> destination, out int written)
    {
        if (OperatingSystem.IsLinux() && _fastSigner is { } fast)
        {
            Span<byte> hash = stackalloc byte[32];
            SHA256.HashData(data, hash);
            if (fast.TrySignHash(hash, destination, out written))
            {
                return true;
            }
        }

        return Key is RSA rsa
            ? rsa.TrySignData(data, destination, Hash, RSASignaturePadding.Pkcs1, out written)
            : ((ECDsa)Key).TrySignData(data, destination, Hash, DSASignatureFormat.Rfc3279DerSequence, out written);
    }

    public void Dispose()
    {
        if (OperatingSystem.IsLinux())
        {
            _fastSigner?.Dispose();
        }

        Key.Dispose();
    }
}
