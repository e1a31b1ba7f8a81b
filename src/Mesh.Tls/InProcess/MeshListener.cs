using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Mesh.Splicing;
using Microsoft.Extensions.Logging;

namespace Mesh.Tls.InProcess;

/// <summary>
/// A mesh mTLS listener of an in-process service: it accepts TCP connections, runs each handshake, SVID validation and intention
/// decision concurrently, resets refused and denied callers (as the sidecar), and hands out only authorized connections.
/// </summary>
public sealed class MeshListener : IAsyncDisposable
{
    private readonly MeshService _service;
    private readonly Socket _socket;
    private readonly Channel<MeshStream> _accepted = Channel.CreateUnbounded<MeshStream>(new UnboundedChannelOptions { SingleWriter = false });
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _loop;
    private int _pending;

    internal MeshListener(MeshService service, IPEndPoint endPoint, ILogger logger)
    {
        _service = service;
        _socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            _socket.Bind(endPoint);
            _socket.Listen(512);
        }
        catch
        {
            _socket.Dispose();
            throw;
        }

        LocalEndPoint = (IPEndPoint)_socket.LocalEndPoint!;
        _loop = TcpAcceptLoop.RunAsync(_socket, s => _ = HandleAsync(s), logger, null, _stopping.Token);
    }

    /// <summary>Where the listener accepts, with the port picked for port 0.</summary>
    public IPEndPoint LocalEndPoint { get; }

    /// <summary>Waits for the next authenticated, authorized caller.</summary>
    /// <exception cref="ChannelClosedException">The listener was disposed.</exception>
    public ValueTask<MeshStream> AcceptAsync(CancellationToken cancellationToken = default) => _accepted.Reader.ReadAsync(cancellationToken);

    /// <summary>Stops accepting; connections already handed out stay open, those not yet taken are reset.</summary>
    public async ValueTask DisposeAsync()
    {
        _socket.Dispose();
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        SpinWait.SpinUntil(() => Volatile.Read(ref _pending) == 0, TimeSpan.FromSeconds(5));
        _accepted.Writer.TryComplete();
        while (_accepted.Reader.TryRead(out MeshStream? stream))
        {
            stream.Abort();
        }

        _stopping.Dispose();
    }

    private async Task HandleAsync(Socket socket)
    {
        Interlocked.Increment(ref _pending);
        try
        {
            MeshStream stream = await _service.AcceptAsync(socket, _stopping.Token).ConfigureAwait(false);
            if (!_accepted.Writer.TryWrite(stream))
            {
                stream.Abort();
            }
        }
        catch (Exception ex) when (ex is MeshConnectionException or OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // Refused and denied callers were reset and logged by the service.
        }
        finally
        {
            Interlocked.Decrement(ref _pending);
        }
    }
}
