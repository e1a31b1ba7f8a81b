using System.Net;
using System.Runtime.Versioning;
using Mesh.Sni.Interop.Linux;
using Mesh.Splicing;

namespace Mesh.Sni.Gateway;

/// <summary>
/// One connection of the gateway's event loop, from accept to close: its two descriptors, the ClientHello read so far, the
/// endpoints still to try and the two directions of the splice. Touched only by the loop's thread.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class GatewayConnection
{
    public GatewayConnection(long id, int slot, GatewayListener listener, int downstream)
    {
        Id = id;
        Slot = slot;
        Listener = listener;
        Downstream = downstream;
    }

    public long Id { get; }

    /// <summary>The connection's index in the loop's table; epoll data carries it.</summary>
    public int Slot { get; }

    public GatewayListener Listener { get; }

    public int Downstream { get; private set; }

    public int Upstream { get; set; } = -1;

    public GatewayPhase Phase { get; set; }

    /// <summary>The ClientHello (and anything after it) read from downstream, replayed to the upstream; pooled.</summary>
    public byte[]? Hello { get; set; }

    public int HelloFilled { get; set; }

    /// <summary>How much of <see cref="Hello"/> the upstream has been sent.</summary>
    public int HelloSent { get; set; }

    public GatewayRoute? Route { get; set; }

    public string? Sni { get; set; }

    /// <summary>The route's endpoints not tried yet. A field, not a property: the cursor is a value that advances in place.</summary>
    public GatewayEndpointCursor Endpoints;

    /// <summary>The endpoint being connected to, or connected.</summary>
    public IPEndPoint? Endpoint { get; set; }

    /// <summary>When the ClientHello read or the connect attempt gives up (loop milliseconds).</summary>
    public long Deadline { get; set; }

    /// <summary>When a byte last moved either way (loop milliseconds), for the idle and drain timeouts.</summary>
    public long LastActivity { get; set; }

    /// <summary>The downstream peer's sockaddr as accept4 gave it; read into an endpoint only for a log line.</summary>
    public byte[] RemoteAddress { get; } = new byte[LinuxSockets.SocketAddressSize];

    public int RemoteAddressLength { get; set; }

    /// <summary>Whether the upstream's registration asks for EPOLLOUT: from a connect that had to wait, or since a direction first
    /// waited for the socket to drain (edge-triggered, it wakes the loop only when a full socket drains).</summary>
    public bool UpstreamWantsWrite { get; set; }

    /// <summary>Whether the downstream's registration asks for EPOLLOUT.</summary>
    public bool DownstreamWantsWrite { get; set; }

    /// <summary>Downstream to upstream.</summary>
    public SpliceDirection Forward { get; } = new();

    /// <summary>Upstream to downstream.</summary>
    public SpliceDirection Backward { get; } = new();

    public EndPoint? Remote => LinuxSockets.ReadAddress(RemoteAddress.AsSpan(0, RemoteAddressLength));

    /// <summary>Forgets the downstream descriptor once it is closed, so nothing closes it twice.</summary>
    public void DownstreamClosed() => Downstream = -1;

    /// <summary>One direction of the splice: whether its source has more to read, whether it ended, and what its destination has not taken yet.</summary>
    internal sealed class SpliceDirection
    {
        /// <summary>An edge said the source has bytes (or an end) that have not been read yet.</summary>
        public bool Readable { get; set; }

        /// <summary>The source's peer ended or failed: read until the source says how, not just until a short read.</summary>
        public bool PeerEnded { get; set; }

        /// <summary>The source sent its FIN.</summary>
        public bool Ended { get; set; }

        /// <summary>The FIN went on to the destination.</summary>
        public bool Forwarded { get; set; }

        /// <summary>Bytes read but not yet taken by the destination (pooled), from <see cref="PendingOffset"/>.</summary>
        public byte[]? Pending { get; set; }

        public int PendingOffset { get; set; }

        public int PendingCount { get; set; }

        /// <summary>Once a read filled the whole buffer this direction carries a stream, not a handshake: it moves through a kernel pipe.</summary>
        public bool Kernel { get; set; }

        public KernelPipe Pipe { get; set; }

        /// <summary>Bytes in <see cref="Pipe"/> the destination has not taken.</summary>
        public int InPipe { get; set; }

        public long Bytes { get; set; }

        public bool Done => Ended && Forwarded;

        public bool Holding => PendingCount > 0 || InPipe > 0;
    }
}
