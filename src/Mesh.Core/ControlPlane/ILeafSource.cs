using Microsoft.Extensions.Primitives;

namespace Mesh.ControlPlane;

/// <summary>
/// Supplies a workload's current leaf certificate and private key, and says when it changes.
/// </summary>
/// <remarks>
/// Implementations: an in-memory one for tests (<see cref="InMemoryLeafSource"/>), a client of the mesh CA that sends CSRs (the
/// private key never leaves the workload), and Consul's agent leaf endpoint. Consumers read <see cref="Current"/> for every new
/// handshake, so a renewal takes effect without touching open connections.
/// </remarks>
public interface ILeafSource
{
    /// <summary>The current leaf, or null before the first one is available.</summary>
    LeafCertificate? Current { get; }

    /// <summary>Returns the current leaf, waiting for the first one if there is none yet.</summary>
    ValueTask<LeafCertificate> GetLeafAsync(CancellationToken cancellationToken);

    /// <summary>A token that fires when <see cref="Current"/> changes.</summary>
    IChangeToken GetChangeToken();
}
