using Mesh.Identity;
using Mesh.Intentions;

namespace Mesh.AspNetCore;

/// <summary>
/// The authenticated caller of a mesh connection, set on the connection's features by <c>ListenOptions.UseMesh()</c> and
/// visible from <c>HttpContext.Features</c>.
/// </summary>
public interface IMeshPeerFeature
{
    /// <summary>The caller's SPIFFE ID, from its validated X.509-SVID.</summary>
    SpiffeId Peer { get; }

    /// <summary>The caller's service and datacenter; the default value when the caller is not a service identity.</summary>
    ServiceIdentity PeerService { get; }

    /// <summary>
    /// The connection's L4 decision: allowed, or denied only because the matching intention has HTTP permissions
    /// (<see cref="IntentionDecisionReason.MatchedL7IntentionOnConnection"/>), in which case each request is decided by
    /// <c>UseMeshAuthorization()</c>.
    /// </summary>
    IntentionDecision ConnectionDecision { get; }
}
