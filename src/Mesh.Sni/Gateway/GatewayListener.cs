using System.Net;
using System.Net.Sockets;
using Mesh.Splicing;

namespace Mesh.Sni.Gateway;

/// <summary>
/// One listen address of the gateway, for either engine: the bound socket and the connections it holds, the counts that
/// <see cref="GatewayLimits"/> checks. The socket engine updates the counts with interlocked operations from any thread; the
/// event loop reads and writes them from its thread only.
/// </summary>
internal sealed class GatewayListener
{
    /// <summary>The backlog of every gateway listener: enough for a burst of connections while the engine is busy.</summary>
    private const int Backlog = 1024;

    /// <summary>Connections accepted on this listener and not closed yet.</summary>
    public int Connections;

    /// <summary>Connections of <see cref="Connections"/> still sending their ClientHello.</summary>
    public int ReadingHello;

    private GatewayListener(Socket socket, int index)
    {
        Socket = socket;
        Index = index;
        LocalEndPoint = (IPEndPoint)socket.LocalEndPoint!;
    }

    public Socket Socket { get; }

    /// <summary>The listener's position among the gateway's (the event loop tags its epoll registration with it).</summary>
    public int Index { get; }

    /// <summary>The bound address, with the port picked for port 0; still readable once the socket is closed.</summary>
    public IPEndPoint LocalEndPoint { get; }

    /// <summary>How long the next back-off for lack of descriptors lasts (<see cref="GatewayAcceptBackoff"/>); event loop only.</summary>
    public TimeSpan Backoff { get; set; } = GatewayAcceptBackoff.Initial;

    /// <summary>When a listener taken out of the event loop for lack of descriptors comes back (0: it is in).</summary>
    public long PausedUntil { get; set; }

    /// <summary>Binds and listens on every address, in order; on failure the ones already bound are closed.</summary>
    /// <exception cref="SocketException">An address cannot be bound.</exception>
    public static GatewayListener[] BindAll(IList<IPEndPoint> endPoints)
    {
        var listeners = new GatewayListener[endPoints.Count];
        try
        {
            for (int i = 0; i < listeners.Length; i++)
            {
                listeners[i] = new GatewayListener(ListenerGroup.Bind(endPoints[i], Backlog), i);
            }
        }
        catch
        {
            CloseAll(listeners);
            throw;
        }

        return listeners;
    }

    /// <summary>Closes every listener's socket (connections already accepted are not affected).</summary>
    public static void CloseAll(IEnumerable<GatewayListener?> listeners)
    {
        foreach (GatewayListener? listener in listeners)
        {
            listener?.Socket.Dispose();
        }
    }
}
