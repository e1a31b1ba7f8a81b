using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using Mesh.ControlPlane;
using Mesh.Diagnostics;
using Mesh.Endpoints;
using Mesh.Identity;
using Mesh.Intentions;
using Mesh.Naming;
using Mesh.Splicing;
using Mesh.Tls.Admission;
using Mesh.Tls.Diagnostics;
using Mesh.Tls.MutualTls;
using Mesh.Tls.Validation;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mesh.Tls.Sidecar;

/// <summary>
/// The sidecar of one service instance, as Consul's built-in proxy: upstream listeners that carry the application's plain TCP
/// connections over mesh mTLS to their destination (directly in the local datacenter, through the local mesh gateways to a remote
/// one), and a public listener that terminates mesh mTLS, authenticates the peer's SPIFFE identity, asks the intentions, resets
/// denied connections and splices allowed ones to the local application.
/// </summary>
/// <remarks>
/// Every handshake reads the current leaf and trust bundle, so a rotation takes effect for new connections while open ones stay
/// up. In TLS 1.3 the caller's handshake completes before this side has checked its certificate and intentions: a refusal reaches
/// the caller as a reset on its first read.
/// </remarks>
public sealed class MeshSidecar : IAsyncDisposable
{
    private readonly SidecarOptions _options;
    private readonly IServiceCatalog _catalog;
    private readonly InboundAdmission _admission;
    private readonly ILeafSource _leaves;
    private readonly ITrustBundleSource _bundles;
    private readonly MeshTlsFactory _tls;
    private readonly TcpSplicer _splicer;
    private readonly ILogger _logger;
    private readonly EndpointRotation _rotation;
    private readonly ListenerGroup _group = new();
    private readonly List<Socket> _upstreamListeners = [];
    private readonly TimeProvider _time;
    private readonly Lock _publicLock = new();
    private LocalApplicationCheck? _check;
    private Socket? _public;
    private IPEndPoint? _publicEndPoint;
    private bool _stopped;

    /// <summary>Creates a sidecar; <see cref="StartAsync"/> starts it.</summary>
    /// <exception cref="ArgumentException">An option is invalid; the message names it.</exception>
    public MeshSidecar(
        SidecarOptions options,
        ILeafSource leaves,
        ITrustBundleSource bundles,
        IServiceCatalog catalog,
        IIntentionSource intentions,
        ILoggerFactory? loggerFactory = null,
        TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(leaves);
        ArgumentNullException.ThrowIfNull(bundles);
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(intentions);
        Configuration.OptionsValidation.ThrowIfInvalid(options, SidecarOptionsValidator.Instance);
        _options = options;
        _catalog = catalog;
        // The evaluator counts decisions (mesh.authz.decisions); the sidecar writes the log line itself, with the connection's details.
        var evaluator = new IntentionEvaluator(intentions);
        _leaves = leaves;
        _bundles = bundles;
        loggerFactory ??= NullLoggerFactory.Instance;
        _logger = loggerFactory.CreateLogger<MeshSidecar>();
        // No validator logger: a refused certificate is logged once, by the admission or the dial, with its connection's ID.
        _tls = new MeshTlsFactory(leaves, new SvidValidator(bundles, timeProvider));
        _admission = new InboundAdmission(_tls, evaluator, options.Service.Service, options.HandshakeTimeout, metrics: null, _logger);
        _splicer = new TcpSplicer(loggerFactory.CreateLogger<TcpSplicer>());
        _time = timeProvider ?? TimeProvider.System;
        _rotation = new EndpointRotation(new EndpointOutlierDetector("sidecar", options.OutlierDetection, _time, loggerFactory.CreateLogger<EndpointOutlierDetector>()));
    }

    /// <summary>Where the public listener accepts, with the port picked for port 0; null before <see cref="StartAsync"/>.</summary>
    public IPEndPoint? PublicEndPoint => _publicEndPoint;

    /// <summary>
    /// Whether the local application passes its check (<see cref="SidecarOptions.LocalApplicationCheckAddress"/>); true when the
    /// check is off. While it is false the public listener is closed: connections to it are refused before any handshake.
    /// </summary>
    public bool IsLocalApplicationHealthy => _check?.IsHealthy ?? true;

    /// <summary>Where each upstream listener accepts, in the order of <see cref="SidecarOptions.Upstreams"/>.</summary>
    public IReadOnlyList<IPEndPoint> UpstreamEndPoints
    {
        get
        {
            var endPoints = new List<IPEndPoint>(_upstreamListeners.Count);
            foreach (Socket socket in _upstreamListeners)
            {
                endPoints.Add((IPEndPoint)socket.LocalEndPoint!);
            }

            return endPoints;
        }
    }

    /// <summary>The connections the sidecar holds now, both directions.</summary>
    public int ActiveConnections => _group.Active;

    /// <summary>Waits for the first leaf and trust bundle, then binds the public and upstream listeners and starts accepting.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await _leaves.GetLeafAsync(cancellationToken).ConfigureAwait(false);
        await _bundles.GetBundleAsync(cancellationToken).ConfigureAwait(false);

        lock (_publicLock)
        {
            OpenPublicListener(_options.PublicListener!);
        }

        SidecarLog.Listening(_logger, _options.Service, _publicEndPoint!);
        if (_options.LocalApplicationCheckInterval > TimeSpan.Zero)
        {
            _check = new LocalApplicationCheck(_options.LocalApplicationCheckAddress ?? _options.LocalApplication!, _options.LocalApplicationCheckInterval,
                _options.LocalApplicationCheckTimeout, _time, _options.Service, ApplyLocalApplicationHealth, _logger);
            await _check.StartAsync(cancellationToken).ConfigureAwait(false);
        }

        foreach (SidecarUpstream upstream in _options.Upstreams)
        {
            Socket socket = _group.Listen(upstream.LocalBindAddress, 512, s => _ = HandleUpstreamAsync(s, upstream), _logger);
            _upstreamListeners.Add(socket);
            SidecarLog.ListeningUpstream(_logger, _options.Service, upstream, socket.LocalEndPoint!);
        }
    }

    /// <summary>Stops accepting, waits for open connections until <paramref name="cancellationToken"/> fires, then resets the rest.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        SidecarLog.Draining(_logger, _options.Service, ActiveConnections);
        await ClosePublicListenerForGoodAsync().ConfigureAwait(false);
        await _group.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops at once: open connections are reset.</summary>
    public async ValueTask DisposeAsync()
    {
        await ClosePublicListenerForGoodAsync().ConfigureAwait(false);
        await _group.AbortAsync().ConfigureAwait(false);
        _group.Dispose();
    }

    private async Task ClosePublicListenerForGoodAsync()
    {
        lock (_publicLock)
        {
            _stopped = true;
            _public?.Dispose();
            _public = null;
        }

        if (_check is not null)
        {
            await _check.DisposeAsync().ConfigureAwait(false);
        }
    }

    // Called after every run of the check. A failing application closes the public listener: a caller's connect is then
    // refused by the kernel (RST), before any handshake, so callers and gateways count a connect failure and move to the next
    // endpoint at once, as they would for a stopped sidecar. A passing one opens it again on the same port.
    private void ApplyLocalApplicationHealth(bool healthy)
    {
        lock (_publicLock)
        {
            if (_stopped)
            {
                return;
            }

            if (!healthy)
            {
                _public?.Dispose();
                _public = null;
            }
            else if (_public is null)
            {
                OpenPublicListener(_publicEndPoint!);
            }
        }
    }

    // Under _publicLock. SO_REUSEADDR: the port's connections of the previous listener may linger in TIME_WAIT; on Linux it
    // never lets two listeners share the port.
    private void OpenPublicListener(IPEndPoint endPoint)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.Bind(endPoint);
            socket.Listen(512);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        _public = socket;
        _publicEndPoint = (IPEndPoint)socket.LocalEndPoint!;
        _ = TcpAcceptLoop.RunAsync(socket, s => _ = HandleInboundAsync(s), _logger, null, _group.Stopping);
    }

    // The public listener's side of admission: the handshake, the SVID and the intentions are InboundAdmission's; this reset
    // or splices to the local application.
    private async Task HandleInboundAsync(Socket socket)
    {
        _group.Enter();
        SslStream? tls = null;
        bool handedOver = false;
        Activity? activity = TlsActivity.StartInbound(socket, _options.Service);
        try
        {
            if (!IsLocalApplicationHealthy)
            {
                // Accepted just before the listener closed: reset it before the handshake, as the closed listener does.
                return;
            }

            EndPoint? remote = socket.RemoteEndPoint;
            EndPoint? local = socket.LocalEndPoint;
            socket.NoDelay = true;
            var transport = new SocketTransportStream(socket);
            InboundAdmissionResult admission = await _admission.AdmitAsync(transport, remote, local, InboundAdmissionMode.Connection, activity, _group.Stopping)
                .ConfigureAwait(false);
            tls = admission.Tls;
            if (!admission.IsAdmitted)
            {
                return;
            }

            long id = admission.ConnectionId;
            SpiffeId peer = admission.Peer;
            IntentionDecision decision = admission.Decision;
            (Socket? app, Exception? error) = await OutboundConnector.TryConnectAsync(
                _options.LocalApplication!, null, _options.LocalApplicationConnectTimeout, _group.Stopping).ConfigureAwait(false);
            if (app is null)
            {
                SidecarLog.LocalAppUnreachable(_logger, id, _options.LocalApplication!, error!.Message);
                _check?.RunNow();
                TlsActivity.Failed(activity, "local_app_unreachable", error.Message);
                return;
            }

            SidecarLog.Allowed(_logger, id, peer, decision, decision.IntentionIdForLog, decision.Precedence, remote, local);
            SidecarLog.LocalAppConnected(_logger, id, app.LocalEndPoint, app.RemoteEndPoint);
            TlsActivity.HandedOff(activity, app);
            activity?.Stop();
            handedOver = true;
            await _splicer.SpliceAsync(app, tls, transport, default, _options.Splice, _group.Stopping).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
        {
        }
        finally
        {
            if (!handedOver)
            {
                // Refused, denied or failed: a reset, so the caller never takes the refusal for a clean end of stream.
                OutboundConnector.Close(socket, reset: true);
                if (tls is not null)
                {
                    await tls.DisposeAsync().ConfigureAwait(false);
                }
            }

            activity?.Stop();
            _group.Exit();
        }
    }

    private async Task HandleUpstreamAsync(Socket client, SidecarUpstream upstream)
    {
        long id = ConnectionIds.Next();
        _group.Enter();
        EndPoint? clientRemote = null;
        bool handedOver = false;
        Socket? server = null;
        SslStream? tls = null;
        Activity? activity = TlsActivity.StartOutbound(_options.Service, upstream.Destination, upstream.Datacenter);
        try
        {
            clientRemote = client.RemoteEndPoint;
            client.NoDelay = true;
            IPEndPoint[] targets = ResolveTargets(upstream);
            IPAddress source = _options.OutboundAddress ?? _options.PublicListener!.Address;
            server = await _rotation.TryEachAsync<IPEndPoint, Socket>(targets, async (endpoint, ct) =>
            {
                (Socket? socket, Exception? error) = await OutboundConnector.TryConnectAsync(endpoint, source, _options.UpstreamConnectTimeout, ct).ConfigureAwait(false);
                if (error is not null)
                {
                    SidecarLog.EndpointFailed(_logger, id, upstream, endpoint, error.Message);
                }

                return socket;
            }, _group.Stopping).ConfigureAwait(false);
            if (server is null)
            {
                SidecarLog.UpstreamFailed(_logger, id, upstream, clientRemote,
                    targets.Length == 0 ? "no healthy endpoint" : "no endpoint accepted a connection");
                TlsActivity.Failed(activity, targets.Length == 0 ? "no_healthy_endpoint" : "connect_failed", null);
                return;
            }

            // SNI is the destination's Consul name; the server is checked by the SPIFFE ID in its certificate, never by the SNI.
            string sni = ConsulSniName.ForService(upstream.Destination, upstream.Datacenter, _options.TrustDomain).ToString();
            var expected = PeerAuthorizer.Service(new ServiceIdentity(upstream.Destination, upstream.Datacenter), _options.TrustDomain);
            var transport = new SocketTransportStream(server);
            tls = new SslStream(transport, leaveInnerStreamOpen: false);
            MeshTlsHandshake check = _tls.CreateClientHandshake(sni, expected);
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(_group.Stopping))
            {
                timeout.CancelAfter(_options.HandshakeTimeout);
                try
                {
                    await tls.AuthenticateAsClientAsync(check.ClientOptions!, timeout.Token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is AuthenticationException or IOException or OperationCanceledException)
                {
                    SidecarLog.UpstreamFailed(_logger, id, upstream, clientRemote,
                        check.Result.Detail is not null ? $"server refused: {check.Result}" : $"mTLS handshake failed: {ex.Message}");
                    TlsActivity.Failed(activity, check.Result.Detail is not null ? TlsMetrics.StatusName(check.Result.Status) : "tls_handshake_failed", ex.Message);
                    return;
                }
            }

            SidecarLog.UpstreamConnected(_logger, id, upstream, clientRemote, client.LocalEndPoint, server.LocalEndPoint, server.RemoteEndPoint, sni, check.Result.PeerId);
            TlsActivity.Connected(activity, server.RemoteEndPoint, sni, tls, check.Result.PeerId);
            activity?.Stop();
            handedOver = true;
            await _splicer.SpliceAsync(client, tls, transport, default, _options.Splice, _group.Stopping).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
        {
        }
        finally
        {
            if (!handedOver)
            {
                OutboundConnector.Close(client, reset: true);
                if (tls is not null)
                {
                    await tls.DisposeAsync().ConfigureAwait(false);
                }
                else
                {
                    server?.Dispose();
                }
            }

            activity?.Stop();
            _group.Exit();
        }
    }


    // The destination's sidecars in the local datacenter; the local mesh gateways (LAN side) for a remote one.
    private IPEndPoint[] ResolveTargets(SidecarUpstream upstream)
    {
        string localDatacenter = _options.Service.Datacenter;
        if (string.Equals(upstream.Datacenter, localDatacenter, StringComparison.Ordinal))
        {
            IReadOnlyList<ServiceEndpoint> endpoints = _catalog.GetHealthyEndpoints(upstream.Destination, localDatacenter);
            var addresses = new IPEndPoint[endpoints.Count];
            for (int i = 0; i < addresses.Length; i++)
            {
                addresses[i] = endpoints[i].Address;
            }

            return addresses;
        }

        IReadOnlyList<MeshGatewayEndpoint> gateways = _catalog.GetMeshGateways(localDatacenter);
        var lan = new IPEndPoint[gateways.Count];
        for (int i = 0; i < lan.Length; i++)
        {
            lan[i] = gateways[i].LanAddress;
        }

        return lan;
    }
}
