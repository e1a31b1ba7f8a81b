namespace Mesh.Tls.Authority;

/// <summary>Why the CA refused to sign (consul-semantics §4 CSR rules, plus the CSR's own signature).</summary>
public enum CertificateSigningError
{
    /// <summary>The request is not DER (or PEM) PKCS #10.</summary>
    MalformedRequest = 1,

    /// <summary>The CSR's signature does not verify with its own public key.</summary>
    BadSignature,

    /// <summary>The CSR is signed with SHA-1 or an algorithm Mesh does not accept.</summary>
    UnsupportedSignatureAlgorithm,

    /// <summary>The public key is not EC P-256/P-384/P-521 or RSA of at least 2048 bits.</summary>
    UnsupportedKey,

    /// <summary>The CSR does not carry exactly one URI SAN.</summary>
    UriSanCount,

    /// <summary>The CSR carries an e-mail SAN.</summary>
    EmailSan,

    /// <summary>The URI SAN is not a valid SPIFFE ID.</summary>
    InvalidSpiffeId,

    /// <summary>The SPIFFE ID is not a service, mesh gateway or agent ID.</summary>
    UnsupportedIdentity,

    /// <summary>The SPIFFE ID belongs to another trust domain.</summary>
    WrongTrustDomain,

    /// <summary>The SPIFFE ID names another datacenter.</summary>
    WrongDatacenter,

    /// <summary>The requested TTL is outside the CA's configured limits.</summary>
    TtlOutOfRange,

    /// <summary>The signing rate limit is exceeded; retry later.</summary>
    RateLimited,

    /// <summary>The caller may not obtain a certificate for the requested identity (its token does not cover it).</summary>
    Unauthorized,

    /// <summary>
    /// The CSR carries an IP SAN, or a DNS SAN the caller's token entry does not list: workloads are not trusted to name hosts.
    /// </summary>
    SanNotAllowed,

    /// <summary>The caller's address failed authorization too often; it may try again after the limit recovers.</summary>
    TooManyFailedAuthorizations,

    /// <summary>The request body is larger than the CA API accepts.</summary>
    RequestTooLarge,
}
