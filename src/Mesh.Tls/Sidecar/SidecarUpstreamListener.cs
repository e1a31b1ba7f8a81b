using System.Net;
using System.Net.Sockets;
using Mesh.Splicing;
using Mesh.Tls.Outbound;
using Microsoft.Extensions.Logging;

namespace Mesh.Tls.Sidecar;

/// <summary>
/// One upstream listener of a sidecar and the connections it accepted: they are counted and drained on their own, so an upstream
/// removed while the sidecar runs stops accepting and lets its open connections finish as the whole sidecar does on stop.
/// </summary>
internal sealed class SidecarUpstreamListener : IDisposable
{
    private const int Backlog = 512;

    private readonly Socket _socket;
    private Task _loop = Task.CompletedTask;

    private SidecarUpstreamListener(MeshUpstream upstream, MeshDialTarget target, Socket socket)
    {
        Upstream = upstream;
        Target = target;
        ConfiguredEndPoint = upstream.LocalBindAddress!;
        _socket = socket;
        EndPoint = (IPEndPoint)socket.LocalEndPoint!;
    }

    /// <summary>The upstream as configured.</summary>
    public MeshUpstream Upstream { get; }

    /// <summary>Where its connections go.</summary>
    public MeshDialTarget Target { get; }

    /// <summary>The bind address as configured (port 0 when the system picked one).</summary>
    public IPEndPoint ConfiguredEndPoint { get; }

    /// <summary>Where the listener accepts.</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>This upstream's open connections; <see cref="ListenerGroup.Stopping"/> resets them when the drain is over.</summary>
    public ListenerGroup Connections { get; } = new();

    /// <summary>Binds the upstream's local address.</summary>
    /// <exception cref="SocketException">The address cannot be bound (in use, not local).</exception>
    public static SidecarUpstreamListener Open(MeshUpstream upstream, MeshDialTarget target)
    {
        IPEndPoint endPoint = upstream.LocalBindAddress!;
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            // As the public listener: connections this port accepted before (an upstream removed and added again) may linger in
            // TIME_WAIT; on Linux SO_REUSEADDR never lets two listeners share the port.
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.Bind(endPoint);
            socket.Listen(Backlog);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return new SidecarUpstreamListener(upstream, target, socket);
    }

    /// <summary>Whether this listener serves <paramref name="target"/> on the bind address <paramref name="endPoint"/> as configured.</summary>
    public bool Serves(MeshDialTarget target, IPEndPoint endPoint) => Target.Equals(target) && ConfiguredEndPoint.Equals(endPoint);

    /// <summary>Starts accepting; each connection goes to <paramref name="onAccepted"/>, which counts it in <see cref="Connections"/>.</summary>
    public void Start(Action<Socket, SidecarUpstreamListener> onAccepted, ILogger logger) =>
        _loop = TcpAcceptLoop.RunAsync(_socket, socket => onAccepted(socket, this), logger, null, Connections.Stopping);

    /// <summary>Stops accepting at once: new connections to the address are refused by the kernel.</summary>
    public void CloseListener() => _socket.Dispose();

    /// <summary>
    /// Stops accepting, waits for the open connections until <paramref name="cancellationToken"/> fires, then resets the rest.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _socket.Dispose();
        // The loop hands each accepted socket over synchronously, and the handler counts it before its first await: once the loop
        // has ended, every connection it accepted is counted, so the drain below cannot miss one.
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await Connections.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    public void Dispose()
    {
        _socket.Dispose();
        Connections.Dispose();
    }
}
