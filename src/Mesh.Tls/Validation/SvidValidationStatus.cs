namespace Mesh.Tls.Validation;

/// <summary>The outcome of validating a peer's X.509-SVID: <see cref="Valid"/>, or the rule it broke (spiffe.md, X509-SVID §2–§5).</summary>
public enum SvidValidationStatus
{
    /// <summary>The SVID is valid and authorized.</summary>
    Valid = 0,

    /// <summary>The peer sent no certificate.</summary>
    NoCertificate,

    /// <summary>The certificate's DER could not be read, or an extension appears twice.</summary>
    MalformedCertificate,

    /// <summary>The leaf has no URI SAN (X509-SVID §2).</summary>
    NoUriSan,

    /// <summary>The leaf has more than one URI SAN (X509-SVID §2); Mesh is stricter than Envoy on purpose.</summary>
    MultipleUriSans,

    /// <summary>The URI SAN is not a <c>spiffe://</c> URI.</summary>
    NotSpiffe,

    /// <summary>The URI SAN breaks the SPIFFE ID grammar (SPIFFE-ID §2); <see cref="SvidValidationResult.SpiffeIdError"/> names the rule.</summary>
    InvalidSpiffeId,

    /// <summary>The leaf's SPIFFE ID has no path: it names a trust domain, not a workload (X509-SVID §3.1).</summary>
    RootPath,

    /// <summary>The bundle has no roots for the leaf's trust domain (Trust Domain and Bundle §3).</summary>
    NoBundleForTrustDomain,

    /// <summary>The subject is empty but the SAN extension is not critical (X509-SVID §3.1, RFC 5280 §4.2.1.6).</summary>
    SanNotCritical,

    /// <summary>The leaf has BasicConstraints cA=true (X509-SVID §4.1).</summary>
    LeafIsCa,

    /// <summary>The leaf has no KeyUsage extension (X509-SVID §4.3).</summary>
    MissingKeyUsage,

    /// <summary>The leaf's KeyUsage sets keyCertSign or cRLSign (X509-SVID §4.3).</summary>
    ForbiddenKeyUsage,

    /// <summary>The leaf's KeyUsage lacks digitalSignature (X509-SVID §4.3).</summary>
    MissingDigitalSignature,

    /// <summary>The leaf has an ExtendedKeyUsage without both serverAuth and clientAuth (X509-SVID §4.4).</summary>
    MissingExtendedKeyUsage,

    /// <summary>The leaf's validity ended before the verification time.</summary>
    Expired,

    /// <summary>The leaf's validity starts after the verification time.</summary>
    NotYetValid,

    /// <summary>A certificate of the path is signed with SHA-1 or an unknown algorithm.</summary>
    WeakSignatureAlgorithm,

    /// <summary>A certificate of the path holds an RSA key under 2048 bits or an EC key under P-256.</summary>
    WeakKey,

    /// <summary>No RFC 5280 path leads to a root of the leaf's trust domain (X509-SVID §5.1).</summary>
    Untrusted,

    /// <summary>A signing certificate of the path is not a CA with keyCertSign, or its SPIFFE ID has a path (X509-SVID §4.1, §4.3).</summary>
    InvalidSigningCertificate,

    /// <summary>The SVID is valid but its SPIFFE ID is not one the caller authorizes.</summary>
    IdentityMismatch,
}
