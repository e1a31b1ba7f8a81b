namespace Mesh.Identity;

/// <summary>
/// The rule of the SPIFFE-ID standard (§2) that a string broke, so an error message or a log line can name it.
/// </summary>
public enum SpiffeIdError
{
    /// <summary>The input is a valid SPIFFE ID or trust domain.</summary>
    None = 0,

    /// <summary>The input is empty.</summary>
    Empty,

    /// <summary>The scheme is not <c>spiffe://</c> (§2.1). Upper-case schemes are only accepted when normalising user input.</summary>
    WrongScheme,

    /// <summary>There is no trust domain after <c>spiffe://</c> (§2.1).</summary>
    MissingTrustDomain,

    /// <summary>The trust domain holds a character outside <c>[a-z0-9.-_]</c> (§2.1).</summary>
    TrustDomainInvalidCharacter,

    /// <summary>The trust domain holds an upper-case letter; only the canonical lower-case form is accepted (§2.1).</summary>
    TrustDomainUpperCase,

    /// <summary>The trust domain is longer than 255 bytes (§2.1).</summary>
    TrustDomainTooLong,

    /// <summary>The authority carries a port (§2.1).</summary>
    Port,

    /// <summary>The authority carries user information (§2.1).</summary>
    UserInfo,

    /// <summary>The trust domain is an IPv6 literal, which SPIFFE does not allow (§2.1).</summary>
    IPv6TrustDomain,

    /// <summary>A path segment is empty: two slashes in a row (§2.2).</summary>
    EmptySegment,

    /// <summary>A path segment is <c>.</c> or <c>..</c> (§2.2).</summary>
    DotSegment,

    /// <summary>The path ends with a slash (§2.2).</summary>
    TrailingSlash,

    /// <summary>A path segment holds a character outside <c>[a-zA-Z0-9.-_]</c> (§2.2).</summary>
    PathInvalidCharacter,

    /// <summary>The ID holds percent-encoding, which SPIFFE forbids (§2.1, §2.2).</summary>
    PercentEncoding,

    /// <summary>The ID holds a query part (§2).</summary>
    Query,

    /// <summary>The ID holds a fragment (§2).</summary>
    Fragment,
}
