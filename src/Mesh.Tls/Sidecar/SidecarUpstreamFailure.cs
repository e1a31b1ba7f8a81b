using Mesh.Tls.Outbound;

namespace Mesh.Tls.Sidecar;

/// <summary>An upstream a running sidecar could not add: its local address could not be bound. The other upstreams are unaffected.</summary>
public sealed class SidecarUpstreamFailure
{
    internal SidecarUpstreamFailure(MeshUpstream upstream, Exception error)
    {
        Upstream = upstream;
        Error = error;
    }

    /// <summary>The upstream that is not listening.</summary>
    public MeshUpstream Upstream { get; }

    /// <summary>Why (a <see cref="System.Net.Sockets.SocketException"/>: the address is in use, or not local).</summary>
    public Exception Error { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Upstream}: {Error.Message}";
}
