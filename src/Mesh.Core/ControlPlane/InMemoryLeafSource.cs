using Microsoft.Extensions.Primitives;

namespace Mesh.ControlPlane;

/// <summary>
/// A leaf source whose leaf is set by code: for tests, dev mode, and hosts that obtain leaves some other way.
/// </summary>
public sealed class InMemoryLeafSource : ILeafSource
{
    private readonly SettableValue<LeafCertificate> _leaf = new();

    /// <summary>Creates a source, optionally with a first leaf.</summary>
    public InMemoryLeafSource(LeafCertificate? initial = null)
    {
        if (initial is not null)
        {
            Set(initial);
        }
    }

    /// <inheritdoc />
    public LeafCertificate? Current => _leaf.Current;

    /// <summary>Replaces the current leaf; new handshakes use it, open connections are untouched.</summary>
    public void Set(LeafCertificate leaf) => _leaf.Set(leaf);

    /// <inheritdoc />
    public ValueTask<LeafCertificate> GetLeafAsync(CancellationToken cancellationToken) => _leaf.GetAsync(cancellationToken);

    /// <inheritdoc />
    public IChangeToken GetChangeToken() => _leaf.GetChangeToken();
}
