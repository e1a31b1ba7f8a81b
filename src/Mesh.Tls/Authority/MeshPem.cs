using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Mesh.Tls.Authority;

/// <summary>
/// PEM (RFC 7468) in and out for the mesh: certificates and chains, PKCS #8 and SEC1 private keys. Certificates load through
/// <see cref="X509CertificateLoader"/>; nothing touches a certificate store.
/// </summary>
internal static class MeshPem
{
    /// <summary>Reads every <c>CERTIFICATE</c> block, in order (a leaf followed by its chain, or a list of roots).</summary>
    /// <exception cref="CryptographicException">A block does not hold a certificate.</exception>
    public static IReadOnlyList<X509Certificate2> ReadCertificates(string pem)
    {
        ArgumentNullException.ThrowIfNull(pem);
        var list = new List<X509Certificate2>();
        ReadOnlySpan<char> rest = pem;
        while (PemEncoding.TryFind(rest, out PemFields fields))
        {
            if (rest[fields.Label] is "CERTIFICATE")
            {
                list.Add(X509CertificateLoader.LoadCertificate(Convert.FromBase64String(rest[fields.Base64Data].ToString())));
            }

            rest = rest[fields.Location.End..];
        }

        return list;
    }

    /// <summary>Writes certificates as consecutive <c>CERTIFICATE</c> blocks.</summary>
    public static string WriteCertificates(IEnumerable<X509Certificate2> certificates)
    {
        ArgumentNullException.ThrowIfNull(certificates);
        var builder = new StringBuilder();
        foreach (X509Certificate2 certificate in certificates)
        {
            builder.Append(PemEncoding.Write("CERTIFICATE", certificate.RawDataMemory.Span)).Append('\n');
        }

        return builder.ToString();
    }

    /// <summary>Reads a private key from a <c>PRIVATE KEY</c> (PKCS #8), <c>EC PRIVATE KEY</c> (SEC1) or <c>RSA PRIVATE KEY</c> (PKCS #1) block.</summary>
    /// <exception cref="CryptographicException">No supported key block was found.</exception>
    public static AsymmetricAlgorithm ReadPrivateKey(string pem)
    {
        ArgumentNullException.ThrowIfNull(pem);
        ReadOnlySpan<char> rest = pem;
        while (PemEncoding.TryFind(rest, out PemFields fields))
        {
            ReadOnlySpan<char> label = rest[fields.Label];
            byte[] der = Convert.FromBase64String(rest[fields.Base64Data].ToString());
            switch (label)
            {
                case "EC PRIVATE KEY":
                    {
                        var ec = ECDsa.Create();
                        ec.ImportECPrivateKey(der, out _);
                        return ec;
                    }

                case "RSA PRIVATE KEY":
                    {
                        var rsa = RSA.Create();
                        rsa.ImportRSAPrivateKey(der, out _);
                        return rsa;
                    }

                case "PRIVATE KEY":
                    return ImportPkcs8(der);
            }

            rest = rest[fields.Location.End..];
        }

        throw new CryptographicException("No PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY block was found in the PEM text.");
    }

    /// <summary>Writes a private key as PKCS #8 (<c>PRIVATE KEY</c>).</summary>
    public static string WritePkcs8PrivateKey(AsymmetricAlgorithm key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.ExportPkcs8PrivateKeyPem();
    }

    /// <summary>Writes an EC private key as SEC1 (<c>EC PRIVATE KEY</c>), as Consul's <c>PrivateKeyPEM</c> carries it.</summary>
    public static string WriteEcPrivateKey(ECDsa key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.ExportECPrivateKeyPem();
    }

    internal static string EncodeCertificates(IReadOnlyList<byte[]> ders)
    {
        var builder = new StringBuilder();
        foreach (byte[] der in ders)
        {
            builder.Append(PemEncoding.Write("CERTIFICATE", der)).Append('\n');
        }

        return builder.ToString();
    }

    internal static byte[]? DecodeSingle(string pem, string label, string alternativeLabel)
    {
        ReadOnlySpan<char> rest = pem;
        while (PemEncoding.TryFind(rest, out PemFields fields))
        {
            ReadOnlySpan<char> found = rest[fields.Label];
            if (found.SequenceEqual(label) || found.SequenceEqual(alternativeLabel))
            {
                return Convert.FromBase64String(rest[fields.Base64Data].ToString());
            }

            rest = rest[fields.Location.End..];
        }

        return null;
    }

    private static AsymmetricAlgorithm ImportPkcs8(byte[] der)
    {
        // Try EC first (the mesh default), then RSA; each import checks the PKCS #8 algorithm identifier.
        var ec = ECDsa.Create();
        try
        {
            ec.ImportPkcs8PrivateKey(der, out _);
            return ec;
        }
        catch (CryptographicException)
        {
            ec.Dispose();
        }

        var rsa = RSA.Create();
        try
        {
            rsa.ImportPkcs8PrivateKey(der, out _);
            return rsa;
        }
        catch
        {
            rsa.Dispose();
            throw;
        }
    }
}
