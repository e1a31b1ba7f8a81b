using System.Net;
using System.Net.Sockets;
using Mesh.Diagnostics;
using Mesh.Sni.ClientHello;
using Mesh.Splicing;
using Microsoft.Extensions.Logging;

namespace Mesh.Sni.Gateway;

/// <summary>
/// The gateway's connections on <see cref="Socket"/> and <see cref="TcpSplicer"/>, one task each: accept
/// (<see cref="TcpAcceptLoop"/>), read the ClientHello, connect to the route's endpoints in turn, replay and splice. Runs where the
/// event loop cannot (<see cref="GatewayEngines"/>): other systems, or a splice clock other than the system's, which every
/// timeout here follows.
/// </summary>
internal sealed class SocketGatewayEngine : IGatewayEngine
{
    private readonly MeshGatewayOptions _options;
    private readonly GatewayListener[] _listeners;
    private readonly GatewayRouter _router;
    private readonly GatewayLimits _limits;
    private readonly GatewayMetrics _metrics;
    private readonly ILogger _logger;
    private readonly TcpSplicer _splicer;
    private readonly ListenerGroup _group = new();
    private readonly List<Task> _acceptLoops = [];

    public SocketGatewayEngine(
        MeshGatewayOptions options, GatewayListener[] listeners, GatewayRouter router, GatewayLimits limits, GatewayMetrics metrics, ILogger logger, TcpSplicer splicer)
    {
        _options = options;
        _listeners = listeners;
        _router = router;
        _limits = limits;
        _metrics = metrics;
        _logger = logger;
        _splicer = splicer;
    }

    public int Active => _group.Active;

    public void Start()
    {
        foreach (GatewayListener listener in _listeners)
        {
            _acceptLoops.Add(TcpAcceptLoop.RunAsync(listener.Socket, accepted => _ = HandleAsync(accepted, listener), _logger, null, _group.Stopping));
        }
    }

    public async Task DrainAsync(CancellationToken cancellationToken)
    {
        GatewayListener.CloseAll(_listeners);
        await _group.StopAsync(cancellationToken).ConfigureAwait(false);
        foreach (Task loop in _acceptLoops)
        {
            await loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    public async Task AbortAsync()
    {
        using var now = new CancellationTokenSource();
        await now.CancelAsync().ConfigureAwait(false);
        await DrainAsync(now.Token).ConfigureAwait(false);
    }

    public void Dispose() => _group.Dispose();

    private async Task HandleAsync(Socket downstream, GatewayListener listener)
    {
        long id = ConnectionIds.Next();
        _group.Enter();
        int held = Interlocked.Increment(ref listener.Connections);
        _metrics.ActiveChanged(1);
        bool readingHello = true;
        int reading = Interlocked.Increment(ref listener.ReadingHello);
        byte[]? buffer = null;
        EndPoint? remote = null;
        try
        {
            remote = downstream.RemoteEndPoint;
            if (_limits.Exceeded(held - 1, reading - 1) is { } limit)
            {
                _limits.Refused(remote, listener, limit);
                OutboundConnector.Close(downstream, reset: true);
                return;
            }

            buffer = GatewayHelloBuffer.Rent();
            HelloOutcome hello = await ReadClientHelloAsync(downstream, id, remote, buffer).ConfigureAwait(false);
            buffer = hello.Buffer;
            Interlocked.Decrement(ref listener.ReadingHello);
            readingHello = false;
            if (hello.Route is not { } route)
            {
                OutboundConnector.Close(downstream, reset: false);
                return;
            }

            Socket? upstream = await ConnectAsync(id, _router.Endpoints(route)).ConfigureAwait(false);
            if (upstream is null)
            {
                _router.NoEndpoint(id, remote, hello.Sni!, route);
                OutboundConnector.Close(downstream, reset: false);
                return;
            }

            _router.Routed(id, hello.Sni!, route, remote, downstream.LocalEndPoint, upstream.LocalEndPoint, upstream.RemoteEndPoint);

            // Replay every byte read so far (the ClientHello and anything after it, such as 0-RTT data), then give the buffer
            // back: a long-lived spliced connection must not hold it.
            await upstream.SendAsync(buffer.AsMemory(0, hello.Filled), SocketFlags.None, _group.Stopping).ConfigureAwait(false);
            GatewayHelloBuffer.Return(buffer);
            buffer = null;
            await _splicer.SpliceAsync(downstream, upstream, default, _options.Splice, _group.Stopping).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            OutboundConnector.Close(downstream, reset: true);
        }
        finally
        {
            if (readingHello)
            {
                Interlocked.Decrement(ref listener.ReadingHello);
            }

            if (buffer is not null)
            {
                GatewayHelloBuffer.Return(buffer);
            }

            Interlocked.Decrement(ref listener.Connections);
            _metrics.ActiveChanged(-1);
            _group.Exit();
        }
    }

    /// <summary>Connects to the route's endpoints in turn until one accepts; null when none did.</summary>
    private async ValueTask<Socket?> ConnectAsync(long id, GatewayEndpointCursor endpoints)
    {
        while (endpoints.TryNext(out IPEndPoint? endpoint))
        {
            _group.Stopping.ThrowIfCancellationRequested();
            (Socket? upstream, Exception? error) = await OutboundConnector.TryConnectAsync(endpoint, _options.OutboundAddress, _options.ConnectTimeout, _group.Stopping).ConfigureAwait(false);
            if (error is not null)
            {
                _router.EndpointFailed(id, endpoint, error.Message);
                continue;
            }

            _router.EndpointConnected(endpoint);
            return upstream;
        }

        return null;
    }

    /// <summary>
    /// Receives until the ClientHello is complete, growing the pooled buffer as the record headers ask; returns the route, or
    /// none when the connection must be closed (the router has logged why).
    /// </summary>
    private async ValueTask<HelloOutcome> ReadClientHelloAsync(Socket downstream, long id, EndPoint? remote, byte[] buffer)
    {
        int filled = 0;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_group.Stopping);
        timeout.CancelAfter(_options.ClientHelloTimeout);
        try
        {
            while (true)
            {
                if (filled == buffer.Length && !_router.TryGrowHello(ref buffer, id, remote))
                {
                    return new HelloOutcome(buffer, filled, null, null);
                }

                int received = await downstream.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, timeout.Token).ConfigureAwait(false);
                if (received == 0)
                {
                    _router.ClosedBeforeHello(id, remote, filled);
                    return new HelloOutcome(buffer, filled, null, null);
                }

                filled += received;
                ClientHelloParseStatus status = _router.Inspect(buffer.AsSpan(0, filled), out GatewayRoute? route, out string? sni, out ClientHelloInvalidReason reason);
                switch (status)
                {
                    case ClientHelloParseStatus.NeedMoreData:
                        continue;
                    case ClientHelloParseStatus.Complete when route is not null:
                        _router.Chosen(id, remote, sni, route);
                        return new HelloOutcome(buffer, filled, route, sni);
                    default:
                        _router.RefuseHello(id, remote, status, reason, sni);
                        return new HelloOutcome(buffer, filled, null, null);
                }
            }
        }
        catch (OperationCanceledException) when (!_group.Stopping.IsCancellationRequested)
        {
            _router.HelloTimedOut(id, remote, filled);
            return new HelloOutcome(buffer, filled, null, null);
        }
    }

    private readonly record struct HelloOutcome(byte[] Buffer, int Filled, GatewayRoute? Route, string? Sni);
}
