using System.Collections.Frozen;
using Mesh.Identity;

namespace Mesh.Tls.Validation;

/// <summary>
/// Which validated SPIFFE IDs a caller accepts (X509-SVID §5.2 authorization): one ID, one of a set, any in a trust domain, or a
/// service in any trust domain (what Consul does, for migrations; an explicit choice here). Matching allocates nothing.
/// </summary>
public sealed class PeerAuthorizer
{
    private readonly Kind _kind;
    private readonly SpiffeId _id;
    private readonly FrozenSet<string>? _set;
    private readonly TrustDomain _trustDomain;
    private readonly string? _path;

    private PeerAuthorizer(Kind kind, SpiffeId id = default, FrozenSet<string>? set = null, TrustDomain trustDomain = default, string? path = null)
    {
        _kind = kind;
        _id = id;
        _set = set;
        _trustDomain = trustDomain;
        _path = path;
    }

    private enum Kind
    {
        Any,
        Exact,
        OneOf,
        TrustDomain,
        PathInAnyTrustDomain,
    }

    /// <summary>Accepts any valid SVID whose chain leads to a root of its own trust domain in the bundle.</summary>
    public static PeerAuthorizer AnyValid { get; } = new(Kind.Any);

    /// <summary>Accepts exactly one ID.</summary>
    public static PeerAuthorizer Exact(SpiffeId id) =>
        id.IsValid ? new(Kind.Exact, id: id) : throw new ArgumentException("The expected SPIFFE ID is missing.", nameof(id));

    /// <summary>Accepts any ID of a set.</summary>
    public static PeerAuthorizer OneOf(IEnumerable<SpiffeId> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var values = new List<string>();
        foreach (SpiffeId id in ids)
        {
            values.Add(id.Value);
        }

        return new(Kind.OneOf, set: values.ToFrozenSet(StringComparer.Ordinal));
    }

    /// <summary>Accepts any ID of a trust domain.</summary>
    public static PeerAuthorizer InTrustDomain(TrustDomain trustDomain) =>
        trustDomain.IsValid ? new(Kind.TrustDomain, trustDomain: trustDomain) : throw new ArgumentException("The trust domain is missing.", nameof(trustDomain));

    /// <summary>Accepts a service's ID in a trust domain, or, with <paramref name="ignoreTrustDomain"/>, in any trust domain as Consul's authorization does.</summary>
    public static PeerAuthorizer Service(ServiceIdentity service, TrustDomain trustDomain, bool ignoreTrustDomain = false)
    {
        SpiffeId id = service.ToSpiffeId(trustDomain);
        return ignoreTrustDomain ? new(Kind.PathInAnyTrustDomain, path: id.Path) : Exact(id);
    }

    /// <summary>Whether an already validated ID is accepted.</summary>
    public bool IsAuthorized(SpiffeId id) => id.IsValid && _kind switch
    {
        Kind.Any => true,
        Kind.Exact => id == _id,
        Kind.OneOf => _set!.Contains(id.Value),
        Kind.TrustDomain => id.TrustDomainSpan.SequenceEqual(_trustDomain.Name),
        Kind.PathInAnyTrustDomain => id.PathSpan.SequenceEqual(_path),
        _ => false,
    };

    /// <inheritdoc />
    public override string ToString() => _kind switch
    {
        Kind.Any => "any valid SVID",
        Kind.Exact => _id.Value,
        Kind.OneOf => $"one of {_set!.Count} IDs",
        Kind.TrustDomain => $"any ID in {_trustDomain}",
        _ => $"'{_path}' in any trust domain",
    };
}
