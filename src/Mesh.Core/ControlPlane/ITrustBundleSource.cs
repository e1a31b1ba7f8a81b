using Microsoft.Extensions.Primitives;

namespace Mesh.ControlPlane;

/// <summary>
/// Supplies the current trust bundle (roots per trust domain) and says when it changes.
/// </summary>
public interface ITrustBundleSource
{
    /// <summary>The current bundle; <see cref="TrustBundle.Empty"/> before the first one is known.</summary>
    TrustBundle Current { get; }

    /// <summary>Returns the current bundle, waiting for the first non-empty one if none is known yet.</summary>
    ValueTask<TrustBundle> GetBundleAsync(CancellationToken cancellationToken);

    /// <summary>A token that fires when <see cref="Current"/> changes.</summary>
    IChangeToken GetChangeToken();
}
