using System.Collections.Frozen;
using System.Security.Cryptography.X509Certificates;
using Mesh.Identity;

namespace Mesh.ControlPlane;

/// <summary>
/// The trusted roots of each trust domain (SPIFFE Trust Domain and Bundle §3). Bundles of different trust domains are never pooled:
/// a leaf is validated only against the roots of its own trust domain.
/// </summary>
/// <remarks>
/// Immutable. <see cref="Version"/> grows with every change so caches of validation results can be keyed on it; a root removed
/// from the bundle stops being trusted as soon as the new bundle is published.
/// </remarks>
public sealed class TrustBundle
{
    private readonly FrozenDictionary<TrustDomain, IReadOnlyList<X509Certificate2>> _roots;

    /// <summary>Creates a bundle.</summary>
    /// <param name="version">A number that grows with every published change.</param>
    /// <param name="roots">The roots of each trust domain; every root is an anchor (several during a CA rotation).</param>
    public TrustBundle(long version, IReadOnlyDictionary<TrustDomain, IReadOnlyList<X509Certificate2>> roots)
    {
        ArgumentNullException.ThrowIfNull(roots);
        Version = version;
        _roots = roots.ToFrozenDictionary();
    }

    /// <summary>An empty bundle that trusts nothing.</summary>
    public static TrustBundle Empty { get; } = new(0, new Dictionary<TrustDomain, IReadOnlyList<X509Certificate2>>());

    /// <summary>A number that grows with every published change of the bundle.</summary>
    public long Version { get; }

    /// <summary>The trust domains that have roots in this bundle.</summary>
    public IEnumerable<TrustDomain> TrustDomains => _roots.Keys;

    /// <summary>Gets the roots of one trust domain.</summary>
    public bool TryGetRoots(TrustDomain trustDomain, out IReadOnlyList<X509Certificate2> roots)
    {
        if (_roots.TryGetValue(trustDomain, out IReadOnlyList<X509Certificate2>? found))
        {
            roots = found;
            return true;
        }

        roots = [];
        return false;
    }
}
