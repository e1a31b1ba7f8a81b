using Mesh.Identity;

namespace Mesh.Tls.Validation;

/// <summary>The result of validating a peer's X.509-SVID: the rule it broke or its SPIFFE ID. Never a bare boolean.</summary>
public readonly struct SvidValidationResult
{
    internal SvidValidationResult(SvidValidationStatus status, SpiffeId peerId, SpiffeIdError spiffeIdError = SpiffeIdError.None, string? detail = null, bool fromCache = false)
    {
        Status = status;
        PeerId = peerId;
        SpiffeIdError = spiffeIdError;
        Detail = detail;
        FromCache = fromCache;
    }

    /// <summary>Valid, or the rule the SVID broke.</summary>
    public SvidValidationStatus Status { get; }

    /// <summary>Whether the SVID is valid and authorized.</summary>
    public bool IsValid => Status == SvidValidationStatus.Valid;

    /// <summary>The peer's SPIFFE ID when it could be read (also on <see cref="SvidValidationStatus.IdentityMismatch"/>).</summary>
    public SpiffeId PeerId { get; }

    /// <summary>The SPIFFE ID rule broken, for <see cref="SvidValidationStatus.InvalidSpiffeId"/>.</summary>
    public SpiffeIdError SpiffeIdError { get; }

    /// <summary>More about a failure (the chain status, the offending certificate), for logs; null when valid.</summary>
    public string? Detail { get; }

    /// <summary>Whether the result came from the cache of successful validations.</summary>
    public bool FromCache { get; }

    /// <inheritdoc />
    public override string ToString() => IsValid
        ? $"Valid ({PeerId})"
        : Detail is null ? Status.ToString() : $"{Status}: {Detail}";
}
