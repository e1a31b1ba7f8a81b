using System.Buffers;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using Mesh.ControlPlane;
using Mesh.Diagnostics;
using Mesh.Endpoints;
using Mesh.Shared;
using Mesh.Sni.ClientHello;
using Mesh.Sni.Diagnostics;
using Mesh.Sni.Routing;
using Mesh.Splicing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Primitives;

namespace Mesh.Sni.Gateway;

/// <summary>
/// A mesh gateway (consul-semantics §2): reads only the unencrypted ClientHello of each connection, picks a filter chain by
/// its SNI (a wildcard per remote datacenter, exact names for local services), connects to the chain's next hop, replays every
/// byte it has read and splices. It holds no certificate and no key, so it cannot decrypt what it forwards.
/// </summary>
/// <remarks>
/// Routes are rebuilt from the <see cref="IServiceCatalog"/> whenever it changes; the table is immutable and swapped
/// atomically, so routing never locks. On Linux every connection of the gateway runs on one thread of its own that waits in
/// <c>epoll_wait</c> (a gateway connection is a dozen short steps, and plain system calls cost a fraction of what the socket
/// engine adds to each); elsewhere, or with a <see cref="SpliceOptions.TimeProvider"/> other than the system's, the gateway
/// runs on <see cref="Socket"/> and <see cref="TcpSplicer"/>. Connections refused for no route, a malformed or non-TLS hello,
/// or a timeout are closed and the reason logged.
/// </remarks>
public sealed class MeshGateway : IAsyncDisposable
{
    private const int InitialHelloBuffer = 4096;

    private readonly MeshGatewayOptions _options;
    private readonly IServiceCatalog _catalog;
    private readonly TcpSplicer _splicer;
    private readonly ILogger _logger;
    private readonly EndpointRotation _rotation = new();
    private readonly EndpointOutlierDetector _outliers;
    private readonly ListenerGroup _group = new();
    private readonly List<Listener> _listeners = [];
    private readonly Counter<long> _connections;
    private readonly UpDownCounter<long> _activeGauge;
    private readonly Meter? _ownedMeter;
    private SniRouteTable<GatewayRoute> _routes = new([]);
    private IDisposable? _catalogSubscription;
    private GatewayEventLoop? _loop;

    /// <summary>Creates a gateway; <see cref="StartAsync"/> starts it.</summary>
    /// <exception cref="ArgumentException">An option is invalid; the message names it.</exception>
    public MeshGateway(MeshGatewayOptions options, IServiceCatalog catalog, ILoggerFactory? loggerFactory = null, IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(catalog);
        options.Validate();
        _options = options;
        _catalog = catalog;
        loggerFactory ??= NullLoggerFactory.Instance;
        _logger = loggerFactory.CreateLogger<MeshGateway>();
        _splicer = new TcpSplicer(loggerFactory.CreateLogger<TcpSplicer>(), meterFactory);
        Meter meter = meterFactory?.Create(MeshMetrics.GatewayMeter) ?? (_ownedMeter = new Meter(MeshMetrics.GatewayMeter));
        _connections = meter.CreateCounter<long>(MeshMetrics.GatewayConnections, description: "Connections accepted by mesh gateways, by result.");
        _activeGauge = meter.CreateUpDownCounter<long>(MeshMetrics.GatewayActiveConnections, description: "Connections mesh gateways hold.");
        _outliers = new EndpointOutlierDetector("gateway", options.OutlierDetection, options.Splice.TimeProvider, loggerFactory.CreateLogger<EndpointOutlierDetector>(), meterFactory);
    }

    /// <summary>The addresses the gateway accepts on, with the ports picked for port 0; empty before <see cref="StartAsync"/>.</summary>
    public IReadOnlyList<IPEndPoint> LocalEndPoints
    {
        get
        {
            var endPoints = new List<IPEndPoint>(_listeners.Count);
            foreach (Listener listener in _listeners)
            {
                endPoints.Add((IPEndPoint)listener.Socket.LocalEndPoint!);
            }

            return endPoints;
        }
    }

    /// <summary>The connections the gateway holds now.</summary>
    public int ActiveConnections => OperatingSystem.IsLinux() && _loop is { } loop ? loop.Active : _group.Active;

    /// <summary>Builds the routes, binds every listen address and starts accepting.</summary>
    /// <exception cref="SocketException">An address cannot be bound.</exception>
    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        RebuildRoutes();
        _catalogSubscription = ChangeToken.OnChange(_catalog.GetChangeToken, RebuildRoutes);
        if (OperatingSystem.IsLinux() && GatewayEventLoop.CanRun(_options))
        {
            StartEventLoop();
            return Task.CompletedTask;
        }

        foreach (IPEndPoint endPoint in _options.ListenEndPoints)
        {
            var listener = new Listener();
            listener.Socket = _group.Listen(endPoint, 1024, accepted => _ = HandleAsync(accepted, listener), _logger);
            _listeners.Add(listener);
            GatewayLog.Listening(_logger, _options.Datacenter, listener.Socket.LocalEndPoint!);
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// Stops accepting, then waits for open connections to end until <paramref name="cancellationToken"/> fires; connections
    /// still open then are reset.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        _catalogSubscription?.Dispose();
        GatewayLog.Draining(_logger, _options.Datacenter, ActiveConnections);
        if (OperatingSystem.IsLinux() && _loop is { } loop)
        {
            await loop.StopAcceptingAsync().ConfigureAwait(false);
            CloseListeners();
            await loop.Drained.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await loop.AbortAsync().ConfigureAwait(false);
            return;
        }

        await _group.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops at once: open connections are reset.</summary>
    public async ValueTask DisposeAsync()
    {
        _catalogSubscription?.Dispose();
        if (OperatingSystem.IsLinux() && _loop is { } loop)
        {
            await loop.AbortAsync().ConfigureAwait(false);
            CloseListeners();
            loop.Dispose();
        }
        else
        {
            await _group.AbortAsync().ConfigureAwait(false);
        }

        _group.Dispose();
        _ownedMeter?.Dispose();
    }

    /// <summary>The endpoints of a route now (healthy ones, from the catalog).</summary>
    internal IPEndPoint[] Resolve(GatewayRoute route) => route.Resolve(_catalog);

    /// <summary>Where the next connection of a route starts in its endpoint list (round robin).</summary>
    internal int NextStart(int count) => _rotation.NextStart(count);

    /// <summary>The endpoints that refused connections lately, shared by both engines.</summary>
    internal EndpointOutlierDetector Outliers => _outliers;

    internal void ActiveChanged(int delta) => _activeGauge.Add(delta);

    internal void Count(string result) => _connections.Add(1, new KeyValuePair<string, object?>(MeshMetrics.ResultTag, result));

    [SupportedOSPlatform("linux")]
    private void StartEventLoop()
    {
        var loop = new GatewayEventLoop(this, _options, _logger, _splicer.Logger, _splicer.Metrics);
        try
        {
            foreach (IPEndPoint endPoint in _options.ListenEndPoints)
            {
                var listener = new Listener { Socket = ListenerGroup.Bind(endPoint, 1024) };
                _listeners.Add(listener);
                listener.Socket.Blocking = false;
                loop.AddListener(listener.Socket);
                GatewayLog.Listening(_logger, _options.Datacenter, listener.Socket.LocalEndPoint!);
            }
        }
        catch
        {
            CloseListeners();
            loop.Dispose();
            throw;
        }

        _loop = loop;
        loop.Start();
    }

    private void CloseListeners()
    {
        foreach (Listener listener in _listeners)
        {
            listener.Socket.Dispose();
        }
    }

    private void RebuildRoutes()
    {
        SniRouteTable<GatewayRoute> routes = GatewayRouteBuilder.Build(_catalog, _options.Datacenter, _options.TrustDomain);
        Volatile.Write(ref _routes, routes);
        GatewayLog.RoutesBuilt(_logger, _options.Datacenter, routes.Count);
    }

    private async Task HandleAsync(Socket downstream, Listener listener)
    {
        long id = ConnectionIds.Next();
        _group.Enter();
        int held = Interlocked.Increment(ref listener.Connections);
        _activeGauge.Add(1);
        bool readingHello = true;
        Interlocked.Increment(ref listener.ReadingHello);
        byte[]? buffer = null;
        EndPoint? remote = null;
        try
        {
            remote = downstream.RemoteEndPoint;
            if (held > _options.MaxConnections || Volatile.Read(ref listener.ReadingHello) > _options.MaxConcurrentClientHelloReads)
            {
                GatewayLog.LimitReached(_logger, remote, listener.Socket.LocalEndPoint!, held > _options.MaxConnections ? "MaxConnections" : "MaxConcurrentClientHelloReads");
                Count("limit");
                OutboundConnector.Close(downstream, reset: true);
                return;
            }

            buffer = ArrayPool<byte>.Shared.Rent(InitialHelloBuffer);
            HelloOutcome hello = await ReadClientHelloAsync(downstream, id, remote, buffer).ConfigureAwait(false);
            buffer = hello.Buffer;
            int filled = hello.Filled;
            GatewayRoute? route = hello.Route;
            string? sni = hello.Sni;
            Interlocked.Decrement(ref listener.ReadingHello);
            readingHello = false;
            if (route is null)
            {
                OutboundConnector.Close(downstream, reset: false);
                return;
            }

            // The rotation inline rather than through EndpointRotation.TryEachAsync: no closure, delegate or second state machine
            // on every connection. Ejected endpoints are skipped unless all are (then all are tried: outlier ejection never
            // leaves a route with nothing).
            IPEndPoint[] endpoints = route.Resolve(_catalog);
            Socket? upstream = null;
            int start = endpoints.Length == 0 ? 0 : _rotation.NextStart(endpoints.Length);
            bool skipEjected = _outliers.HasAvailable(endpoints);
            for (int i = 0; i < endpoints.Length && upstream is null; i++)
            {
                _group.Stopping.ThrowIfCancellationRequested();
                IPEndPoint endpoint = endpoints[(start + i) % endpoints.Length];
                if (skipEjected && _outliers.IsEjected(endpoint))
                {
                    continue;
                }

                (upstream, Exception? error) = await OutboundConnector.TryConnectAsync(endpoint, _options.OutboundAddress, _options.ConnectTimeout, _group.Stopping).ConfigureAwait(false);
                if (error is not null)
                {
                    GatewayLog.EndpointFailed(_logger, id, endpoint, error.Message);
                    _outliers.ReportFailure(endpoint);
                }
                else
                {
                    _outliers.ReportSuccess(endpoint);
                }
            }

            if (upstream is null)
            {
                GatewayLog.NoEndpoint(_logger, id, remote, sni!, route);
                Count("connect_failed");
                OutboundConnector.Close(downstream, reset: false);
                return;
            }

            GatewayLog.Routed(_logger, id, sni!, route, remote, downstream.LocalEndPoint, upstream.LocalEndPoint, upstream.RemoteEndPoint);
            Count("routed");

            // Replay every byte read so far (the ClientHello and anything after it, such as 0-RTT data), then give the buffer
            // back: a long-lived spliced connection must not hold it.
            await upstream.SendAsync(buffer.AsMemory(0, filled), SocketFlags.None, _group.Stopping).ConfigureAwait(false);
            ArrayPool<byte>.Shared.Return(buffer);
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
                ArrayPool<byte>.Shared.Return(buffer);
            }

            Interlocked.Decrement(ref listener.Connections);
            _activeGauge.Add(-1);
            _group.Exit();
        }
    }

    /// <summary>
    /// Receives until the ClientHello is complete, growing the pooled buffer as the record headers ask; returns the route, or
    /// none when the connection must be closed (the reason is logged here).
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
                if (filled == buffer.Length && !TryGrowHelloBuffer(ref buffer, id, remote))
                {
                    return new HelloOutcome(buffer, filled, null, null);
                }

                int received = await downstream.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, timeout.Token).ConfigureAwait(false);
                if (received == 0)
                {
                    GatewayLog.ClosedBeforeHello(_logger, id, remote, filled);
                    Count("closed_early");
                    return new HelloOutcome(buffer, filled, null, null);
                }

                filled += received;
                ClientHelloParseStatus status = Inspect(buffer.AsSpan(0, filled), out GatewayRoute? route, out string? sni, out ClientHelloInvalidReason reason);
                switch (status)
                {
                    case ClientHelloParseStatus.NeedMoreData:
                        continue;
                    case ClientHelloParseStatus.Complete when route is not null:
                        GatewayActivity.Routed(id, remote, sni, route, _options.Datacenter);
                        return new HelloOutcome(buffer, filled, route, sni);
                    default:
                        RefuseHello(id, remote, status, reason, sni);
                        return new HelloOutcome(buffer, filled, null, null);
                }
            }
        }
        catch (OperationCanceledException) when (!_group.Stopping.IsCancellationRequested)
        {
            GatewayLog.HelloTimeout(_logger, id, remote, _options.ClientHelloTimeout, filled);
            Count("timeout");
            return new HelloOutcome(buffer, filled, null, null);
        }
    }

    /// <summary>
    /// Makes room for more of a hello whose buffer is full, as its record headers ask; false (logged and counted as too large)
    /// once the buffer is at its bound. Both engines read hellos through it.
    /// </summary>
    internal bool TryGrowHelloBuffer(ref byte[] buffer, long id, EndPoint? remote)
    {
        // A hello split into tiny records carries 5 header bytes per record on top of the handshake: allow for that, but bound it.
        int maxBytes = (_options.MaxClientHelloSize * 2) + 1024;
        if (buffer.Length >= maxBytes)
        {
            RefuseHello(id, remote, ClientHelloParseStatus.TooLarge, ClientHelloInvalidReason.None, null);
            return false;
        }

        byte[] larger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 4, maxBytes));
        buffer.CopyTo(larger, 0);
        ArrayPool<byte>.Shared.Return(buffer);
        buffer = larger;
        return true;
    }

    /// <summary>Logs and counts a hello the gateway will not route: complete but matching no route, not TLS, invalid or too large.</summary>
    internal void RefuseHello(long id, EndPoint? remote, ClientHelloParseStatus status, ClientHelloInvalidReason reason, string? sni)
    {
        if (status == ClientHelloParseStatus.Complete)
        {
            GatewayLog.NoRoute(_logger, id, remote, sni ?? "(none)");
            Count("no_route");
            GatewayActivity.Refused(id, remote, sni, _options.Datacenter, "no_route");
            return;
        }

        GatewayLog.InvalidHello(_logger, id, remote, status, reason);
        string result = status == ClientHelloParseStatus.NotTls ? "not_tls" : status == ClientHelloParseStatus.TooLarge ? "too_large" : "invalid";
        Count(result);
        GatewayActivity.Refused(id, remote, sni, _options.Datacenter, result);
    }

    // Synchronous: the parse result is a ref struct over the buffer and cannot live across an await. The event loop calls it too.
    internal ClientHelloParseStatus Inspect(ReadOnlySpan<byte> received, out GatewayRoute? route, out string? sni, out ClientHelloInvalidReason reason)
    {
        route = null;
        sni = null;
        ClientHelloParseStatus status = ClientHelloParser.Parse(received, out ClientHelloInfo hello, _options.MaxClientHelloSize);
        reason = hello.InvalidReason;
        if (status == ClientHelloParseStatus.Complete && hello.HasServerName)
        {
            sni = hello.GetServerNameString();
            Volatile.Read(ref _routes).Lookup(hello.ServerName, out route);
        }

        return status;
    }

    private readonly record struct HelloOutcome(byte[] Buffer, int Filled, GatewayRoute? Route, string? Sni);

    private sealed class Listener
    {
        public int Connections;
        public int ReadingHello;

        public Socket Socket { get; set; } = null!;
    }
}
