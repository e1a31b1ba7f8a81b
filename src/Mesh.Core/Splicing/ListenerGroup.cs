using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Mesh.Splicing;

/// <summary>
/// The listeners of one TCP hop (a gateway, a sidecar, a relay of your own beside <see cref="TcpSplicer"/>) and the connections
/// they accepted: binds and runs each accept loop (<see cref="TcpAcceptLoop"/>), counts connections without a lock (one
/// interlocked operation per start and end), and stops in Kestrel's order — stop accepting, let open connections finish until
/// the caller's deadline, then reset what is left through <see cref="Stopping"/>.
/// </summary>
public sealed class ListenerGroup : IDisposable
{
    private readonly List<(Socket Socket, Task Loop)> _listeners = [];
    private readonly CancellationTokenSource _stopping = new();
    private int _active;
    private TaskCompletionSource? _drained;

    /// <summary>Fires when the drain is over: connections still open must be reset.</summary>
    public CancellationToken Stopping => _stopping.Token;

    /// <summary>The connections open now.</summary>
    public int Active => Volatile.Read(ref _active);

    /// <summary>Binds <paramref name="endPoint"/> and accepts on it until the group stops.</summary>
    /// <exception cref="SocketException">The address cannot be bound.</exception>
    public Socket Listen(IPEndPoint endPoint, int backlog, Action<Socket> onAccepted, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        ArgumentNullException.ThrowIfNull(onAccepted);
        Socket socket = Bind(endPoint, backlog);
        _listeners.Add((socket, TcpAcceptLoop.RunAsync(socket, onAccepted, logger, null, _stopping.Token)));
        return socket;
    }

    /// <summary>A socket bound to <paramref name="endPoint"/> and listening, for a component that runs its own accept loop.</summary>
    /// <exception cref="SocketException">The address cannot be bound.</exception>
    public static Socket Bind(IPEndPoint endPoint, int backlog)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
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

        return socket;
    }

    /// <summary>Counts a connection as open; pair with <see cref="Exit"/>.</summary>
    public void Enter() => Interlocked.Increment(ref _active);

    /// <summary>Counts a connection as ended.</summary>
    public void Exit()
    {
        if (Interlocked.Decrement(ref _active) == 0)
        {
            Volatile.Read(ref _drained)?.TrySetResult();
        }
    }

    /// <summary>Stops accepting, waits for open connections until <paramref name="cancellationToken"/> fires, then fires <see cref="Stopping"/>.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        foreach ((Socket socket, _) in _listeners)
        {
            socket.Dispose();
        }

        var drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _drained, drained);
        if (Active == 0)
        {
            drained.TrySetResult();
        }

        await drained.Task.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
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

    /// <summary>Releases the stop signal; call after <see cref="StopAsync"/> or <see cref="AbortAsync"/>.</summary>
    public void Dispose() => _stopping.Dispose();
}
