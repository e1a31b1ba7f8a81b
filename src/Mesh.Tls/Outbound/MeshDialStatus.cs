namespace Mesh.Tls.Outbound;

/// <summary>How one outbound mesh dial ended.</summary>
internal enum MeshDialStatus
{
    /// <summary>Connected and the server proved the destination's SPIFFE identity.</summary>
    Connected,

    /// <summary>The destination cannot be dialled by that name: not a valid service name, or (in-process) neither configured nor in the catalog.</summary>
    UnknownUpstream,

    /// <summary>The local datacenter's catalog lists no healthy endpoint of the destination (or of its subset).</summary>
    NoHealthyEndpoint,

    /// <summary>The destination is in another datacenter and the catalog lists no mesh gateway in the local one to reach it through.</summary>
    NoGateway,

    /// <summary>No endpoint accepted a TCP connection within the connect timeout.</summary>
    ConnectFailed,

    /// <summary>The server's certificate is a valid SVID of another identity than the destination's.</summary>
    IdentityMismatch,

    /// <summary>The server's certificate broke an SVID rule (untrusted, expired, not a SPIFFE ID…).</summary>
    CertificateRefused,

    /// <summary>The TLS handshake failed for another reason: the server refused this side, it timed out or the connection closed.</summary>
    HandshakeFailed,

    /// <summary>The caller's cancellation token fired (a stopping sidecar, a cancelled request).</summary>
    Canceled,
}
