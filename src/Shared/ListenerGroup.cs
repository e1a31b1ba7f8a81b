using System.Net;
using System.Net.Sockets;
using Mesh.Splicing;
using Microsoft.Extensions.Logging;

namespace Mesh.Shared;

/// <summary>
/// The listeners of one mesh component (a gateway, a sidecar) and the connections they accepted: binds and runs each accept loop,
/// counts connections, and stops in Kestrel's order — stop accepting, let open connections finish until the caller's deadline,
/// then reset what is left through <see cref="Stopping"/>.
/// </summary>
internal sealed class ListenerGroup : IDisposable
{
    private readonly List<(Socket Socket, Task Loop)> _listeners = [];
    private readonly ConnectionDrain _drain = new();
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>Fires when the drain is over: connections still open must be reset.</summary>
    public CancellationToken Stopping => _stopping.Token;

    /// <summary>The connections open now.</summary>
    public int Active => _drain.Active;

    /// <summary>Binds <paramref name="endPoint"/> and accepts on it until the group stops.</summary>
    /// <exception cref="SocketException">The address cannot be bound.</exception>
    public Socket Listen(IPEndPoint endPoint, int backlog, Action<Socket> onAccepted, ILogger logger)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(endPoint);
            socket.Listen(backlog);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        _listeners.Add((socket, TcpAcceptLoop.RunAsync(socket, onAccepted, logger, null, _stopping.Token)));
        return socket;
    }

    /// <summary>Counts a connection as open; pair with <see cref="Exit"/>.</summary>
    public void Enter() => _drain.Enter();

    /// <summary>Counts a connection as ended.</summary>
    public void Exit() => _drain.Exit();

    /// <summary>Stops accepting, waits for open connections until <paramref name="cancellationToken"/> fires, then fires <see cref="Stopping"/>.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        foreach ((Socket socket, _) in _listeners)
        {
            socket.Dispose();
        }

        await _drain.WaitAsync(cancellationToken).ConfigureAwait(false);
        await _stopping.CancelAsync().ConfigureAwait(false);
        foreach ((_, Task loop) in _listeners)
        {
            await loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>Stops at once: open connections are reset.</summary>
    public async Task AbortAsync()
    {
        using var now = new CancellationTokenSource();
        await now.CancelAsync().ConfigureAwait(false);
        await StopAsync(now.Token).ConfigureAwait(false);
    }

    public void Dispose() => _stopping.Dispose();
}
