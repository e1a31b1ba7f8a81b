namespace Mesh.Tls.InProcess;

/// <summary>Why a mesh connection could not be made or was refused.</summary>
public enum MeshConnectionError
{
    /// <summary>The upstream is neither configured nor a service the catalog knows in that datacenter.</summary>
    UnknownUpstream = 1,

    /// <summary>The catalog lists no healthy endpoint (or, for a remote datacenter, no local mesh gateway).</summary>
    NoHealthyEndpoint,

    /// <summary>No endpoint accepted a TCP connection within the connect timeout.</summary>
    ConnectFailed,

    /// <summary>The server's certificate is valid but names another identity than the upstream's.</summary>
    IdentityMismatch,

    /// <summary>The mTLS handshake failed: the peer's certificate was refused, the peer refused ours, or it timed out.</summary>
    HandshakeFailed,

    /// <summary>
    /// The server reset the connection right after the handshake: its intentions deny this service (or it refused this service's
    /// certificate after a TLS 1.3 handshake, which the client cannot tell apart).
    /// </summary>
    RefusedByPeer,

    /// <summary>An inbound caller's identity is denied by the intentions; the connection was reset.</summary>
    DeniedByIntention,
}
