using Mesh.Tls.Outbound;

namespace Mesh.Tls.Sidecar;

/// <summary>What <see cref="MeshSidecar.UpdateUpstreams"/> changed.</summary>
public sealed class SidecarUpstreamUpdate
{
    internal SidecarUpstreamUpdate(IReadOnlyList<MeshUpstream> added, IReadOnlyList<MeshUpstream> removed, IReadOnlyList<SidecarUpstreamFailure> failed, Task drained)
    {
        Added = added;
        Removed = removed;
        Failed = failed;
        Drained = drained;
    }

    /// <summary>The upstreams that listen now and did not before.</summary>
    public IReadOnlyList<MeshUpstream> Added { get; }

    /// <summary>The upstreams that no longer accept connections.</summary>
    public IReadOnlyList<MeshUpstream> Removed { get; }

    /// <summary>The upstreams that could not be added (their address could not be bound); each was logged.</summary>
    public IReadOnlyList<SidecarUpstreamFailure> Failed { get; }

    /// <summary>
    /// Completes when the connections of the removed upstreams have ended, or were reset when the update's cancellation token
    /// fired or the sidecar stopped.
    /// </summary>
    public Task Drained { get; }
}
