using Mesh.Identity;
using Mesh.Intentions;

namespace Mesh.AspNetCore;

internal sealed class MeshPeerFeature(SpiffeId peer, ServiceIdentity peerService, IntentionDecision connectionDecision) : IMeshPeerFeature
{
    public SpiffeId Peer { get; } = peer;

    public ServiceIdentity PeerService { get; } = peerService;

    public IntentionDecision ConnectionDecision { get; } = connectionDecision;
}
