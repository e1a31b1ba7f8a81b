using System.Buffers.Text;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace Mesh.Tls.Authority;

/// <summary>
/// Reads and writes the X.509 authorities of one trust domain as a SPIFFE bundle (Trust Domain and Bundle §4): a JWK set whose
/// keys have <c>use</c> = <c>x509-svid</c> and exactly one certificate in <c>x5c</c>.
/// </summary>
public static class SpiffeBundle
{
    private const string X509SvidUse = "x509-svid";

    /// <summary>Writes a bundle document for a trust domain's roots.</summary>
    /// <param name="roots">The X.509 authorities (every root of the trust domain).</param>
    /// <param name="sequence">The <c>spiffe_sequence</c>, growing with every change (a <c>TrustBundle.Version</c> fits).</param>
    /// <param name="refreshHint">The <c>spiffe_refresh_hint</c>, or null to leave it out.</param>
    public static string Write(IReadOnlyList<X509Certificate2> roots, long sequence, TimeSpan? refreshHint = null)
    {
        ArgumentNullException.ThrowIfNull(roots);
        var document = new SpiffeBundleDocument
        {
            Keys = new List<SpiffeBundleKey>(roots.Count),
            Sequence = sequence,
            RefreshHint = refreshHint is { } hint ? (long)hint.TotalSeconds : null,
        };
        foreach (X509Certificate2 root in roots)
        {
            document.Keys.Add(ToJwk(root));
        }

        return JsonSerializer.Serialize(document, SpiffeBundleJsonContext.Default.SpiffeBundleDocument);
    }

    /// <summary>Reads the X.509 authorities of a bundle document; JWKs of other uses (<c>jwt-svid</c>) are skipped.</summary>
    /// <exception cref="FormatException">The document is not a valid SPIFFE bundle; the message says why.</exception>
    public static IReadOnlyList<X509Certificate2> Read(string json, out long? sequence)
    {
        ArgumentNullException.ThrowIfNull(json);
        SpiffeBundleDocument? document;
        try
        {
            document = JsonSerializer.Deserialize(json, SpiffeBundleJsonContext.Default.SpiffeBundleDocument);
        }
        catch (JsonException ex)
        {
            throw new FormatException($"The SPIFFE bundle is not valid JSON: {ex.Message}", ex);
        }

        if (document?.Keys is null)
        {
            throw new FormatException("The SPIFFE bundle has no 'keys' member (Trust Domain and Bundle §4.1).");
        }

        sequence = document.Sequence;
        var roots = new List<X509Certificate2>();
        foreach (SpiffeBundleKey key in document.Keys)
        {
            if (!string.Equals(key.Use, X509SvidUse, StringComparison.Ordinal))
            {
                continue;
            }

            if (key.X5c is not { Count: 1 })
            {
                throw new FormatException("An x509-svid key must carry exactly one certificate in 'x5c' (Trust Domain and Bundle §4.2.2).");
            }

            X509Certificate2 certificate;
            try
            {
                certificate = X509CertificateLoader.LoadCertificate(Convert.FromBase64String(key.X5c[0]));
            }
            catch (Exception ex) when (ex is FormatException or CryptographicException)
            {
                throw new FormatException($"An x509-svid key's certificate cannot be read: {ex.Message}", ex);
            }

            string expectedType = certificate.GetKeyAlgorithm() == "1.2.840.113549.1.1.1" ? "RSA" : "EC";
            if (!string.Equals(key.KeyType, expectedType, StringComparison.Ordinal))
            {
                certificate.Dispose();
                throw new FormatException($"An x509-svid key says kty '{key.KeyType}' but its certificate holds an {expectedType} key.");
            }

            roots.Add(certificate);
        }

        return roots;
    }

    private static SpiffeBundleKey ToJwk(X509Certificate2 root)
    {
        var key = new SpiffeBundleKey { Use = X509SvidUse, X5c = [Convert.ToBase64String(root.RawDataMemory.Span)] };
        using ECDsa? ec = root.GetECDsaPublicKey();
        if (ec is not null)
        {
            ECParameters p = ec.ExportParameters(false);
            key.KeyType = "EC";
            key.Curve = ec.KeySize switch { 256 => "P-256", 384 => "P-384", 521 => "P-521", _ => null };
            key.X = Base64Url.EncodeToString(p.Q.X);
            key.Y = Base64Url.EncodeToString(p.Q.Y);
            return key;
        }

        using RSA rsa = root.GetRSAPublicKey() ?? throw new ArgumentException("A bundle root must hold an EC or RSA key.", nameof(root));
        RSAParameters r = rsa.ExportParameters(false);
        key.KeyType = "RSA";
        key.Modulus = Base64Url.EncodeToString(r.Modulus);
        key.Exponent = Base64Url.EncodeToString(r.Exponent);
        return key;
    }
}
