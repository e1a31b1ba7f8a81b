using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using Mesh.Identity;
using Mesh.Splicing;

namespace Mesh.Tls.Outbound;

/// <summary>
/// How one dial ended: on <see cref="MeshDialStatus.Connected"/> the authenticated TLS stream over its socket, which the caller
/// now owns; otherwise why not, already logged and traced by the dialer.
/// </summary>
internal readonly struct MeshDialResult
{
    private MeshDialResult(MeshDialStatus status, long connectionId, string? reason, Exception? error, SpiffeId peer,
        Socket? socket, SocketTransportStream? transport, SslStream? tls, string? serverName)
    {
        Status = status;
        ConnectionId = connectionId;
        Reason = reason;
        Error = error;
        Peer = peer;
        Socket = socket;
        Transport = transport;
        Tls = tls;
        ServerName = serverName;
    }

    /// <summary>How the dial ended.</summary>
    public MeshDialStatus Status { get; }

    /// <summary>Whether the connection is up and authenticated.</summary>
    public bool IsConnected => Status == MeshDialStatus.Connected;

    /// <summary>The connection's ID in log lines.</summary>
    public long ConnectionId { get; }

    /// <summary>Why the dial failed, for an error message; null when connected.</summary>
    public string? Reason { get; }

    /// <summary>The exception behind a failure (a socket or TLS error), if any.</summary>
    public Exception? Error { get; }

    /// <summary>The server's SPIFFE ID when its certificate was read (also on <see cref="MeshDialStatus.IdentityMismatch"/>).</summary>
    public SpiffeId Peer { get; }

    /// <summary>The TCP connection to the server or gateway; null unless connected.</summary>
    public Socket? Socket { get; }

    /// <summary>The socket's stream under <see cref="Tls"/>, for the splicer; null unless connected.</summary>
    public SocketTransportStream? Transport { get; }

    /// <summary>The authenticated TLS stream; null unless connected. Disposing it closes the connection.</summary>
    public SslStream? Tls { get; }

    /// <summary>The SNI sent (the destination's Consul name); null unless connected.</summary>
    public string? ServerName { get; }

    /// <summary>The local end of the connection; null unless connected.</summary>
    public EndPoint? LocalEndPoint => Socket?.LocalEndPoint;

    /// <summary>The remote end (a sidecar, an in-process service or the local mesh gateway); null unless connected.</summary>
    public EndPoint? RemoteEndPoint => Socket?.RemoteEndPoint;

    public static MeshDialResult Connected(long connectionId, Socket socket, SocketTransportStream transport, SslStream tls, SpiffeId peer, string serverName) =>
        new(MeshDialStatus.Connected, connectionId, null, null, peer, socket, transport, tls, serverName);

    public static MeshDialResult Failed(MeshDialStatus status, long connectionId, string? reason, Exception? error = null, SpiffeId peer = default) =>
        new(status, connectionId, reason, error, peer, null, null, null, null);
}
