using Microsoft.Extensions.Primitives;

namespace Mesh.ControlPlane;

/// <summary>
/// A trust-bundle source whose bundle is set by code: for tests, dev mode, and hosts that obtain roots some other way.
/// </summary>
public sealed class InMemoryTrustBundleSource : ITrustBundleSource
{
    private readonly SettableValue<TrustBundle> _bundle = new();

    /// <summary>Creates a source, optionally with a first bundle.</summary>
    public InMemoryTrustBundleSource(TrustBundle? initial = null)
    {
        if (initial is not null)
        {
            Set(initial);
        }
    }

    /// <inheritdoc />
    public TrustBundle Current => _bundle.Current ?? TrustBundle.Empty;

    /// <summary>Replaces the bundle; roots missing from the new one stop being trusted at once.</summary>
    public void Set(TrustBundle bundle) => _bundle.Set(bundle);

    /// <inheritdoc />
    public ValueTask<TrustBundle> GetBundleAsync(CancellationToken cancellationToken) => _bundle.GetAsync(cancellationToken);

    /// <inheritdoc />
    public IChangeToken GetChangeToken() => _bundle.GetChangeToken();
}
