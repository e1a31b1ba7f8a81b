namespace Mesh.Tls.X509;

/// <summary>Object identifiers of RFC 5280, RFC 5758, RFC 8017 and PKCS #9 that the CA and the validator use.</summary>
internal static class Oids
{
    internal const string SubjectKeyIdentifier = "2.5.29.14";
    internal const string KeyUsage = "2.5.29.15";
    internal const string SubjectAltName = "2.5.29.17";
    internal const string BasicConstraints = "2.5.29.19";
    internal const string AuthorityKeyIdentifier = "2.5.29.35";
    internal const string ExtendedKeyUsage = "2.5.29.37";
    internal const string ServerAuth = "1.3.6.1.5.5.7.3.1";
    internal const string ClientAuth = "1.3.6.1.5.5.7.3.2";

    internal const string EcPublicKey = "1.2.840.10045.2.1";
    internal const string Secp256r1 = "1.2.840.10045.3.1.7";
    internal const string Secp384r1 = "1.3.132.0.34";
    internal const string Secp521r1 = "1.3.132.0.35";
    internal const string Rsa = "1.2.840.113549.1.1.1";

    internal const string EcdsaWithSha256 = "1.2.840.10045.4.3.2";
    internal const string EcdsaWithSha384 = "1.2.840.10045.4.3.3";
    internal const string EcdsaWithSha512 = "1.2.840.10045.4.3.4";
    internal const string Sha256WithRsa = "1.2.840.113549.1.1.11";
    internal const string Sha384WithRsa = "1.2.840.113549.1.1.12";
    internal const string Sha512WithRsa = "1.2.840.113549.1.1.13";

    internal const string Pkcs9ExtensionRequest = "1.2.840.113549.1.9.14";
}
