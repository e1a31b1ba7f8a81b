using System.Net;
using System.Net.Sockets;

namespace Mesh.Splicing;

/// <summary>
/// Opens outbound TCP connections for the mesh's hops (and a TCP hop of your own beside <see cref="TcpSplicer"/>): TCP_NODELAY
/// on, an optional source address (so a hop's connections come from its own address), a connect timeout, and a socket that is
/// disposed on every failure; and closes a refused connection with a FIN or a reset.
/// </summary>
public static class OutboundConnector
{
    /// <summary>Connects, or returns null with the error when the endpoint refuses, times out or fails.</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired (not the timeout).</exception>
    public static async ValueTask<(Socket? Socket, Exception? Error)> TryConnectAsync(
        IPEndPoint remote,
        IPAddress? localAddress,
        TimeSpan timeout,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(remote);
        var socket = new Socket(remote.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            if (localAddress is not null && localAddress.AddressFamily == remote.AddressFamily)
            {
                socket.Bind(new IPEndPoint(localAddress, 0));
            }

            using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeoutSource.CancelAfter(timeout);
            await socket.ConnectAsync(remote, timeoutSource.Token).ConfigureAwait(false);

            // Both addresses are read now, while the connection is surely up: the socket keeps them, so the log lines written
            // after a handshake still have them when the peer has reset meanwhile (getpeername then fails with ENOTCONN).
            _ = socket.LocalEndPoint;
            _ = socket.RemoteEndPoint;
            return (socket, null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            return (null, new TimeoutException($"Connecting to {remote} took longer than {timeout.TotalSeconds:0.#} s."));
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            return (null, ex);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Closes a connection the mesh refuses: a FIN for a clean refusal, or a reset when <paramref name="reset"/> is set.</summary>
    public static void Close(Socket socket, bool reset)
    {
        ArgumentNullException.ThrowIfNull(socket);
        try
        {
            if (reset)
            {
                // Linger 0 makes close() send RST: the peer sees a failure, never a clean end.
                socket.LingerState = new LingerOption(true, 0);
            }
            else
            {
                socket.Shutdown(SocketShutdown.Send);
            }
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }

        socket.Dispose();
    }
}
