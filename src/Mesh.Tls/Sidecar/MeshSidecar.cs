using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using Mesh.Configuration;
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
using Mesh.Tls.Outbound;
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
    private readonly InboundAdmission _admission;
    private readonly MeshDialer _dialer;
    private readonly ILeafSource _leaves;
    private readonly ITrustBundleSource _bundles;
    private readonly TcpSplicer _splicer;
    private readonly ILogger _logger;
    private readonly ListenerGroup _group = new();
    private readonly TimeProvider _time;
    private readonly Lock _publicLock = new();
    private readonly SidecarUpstreams _upstreams;
    private LocalApplicationCheck? _check;
    private Socket? _public;
    private IPEndPoint? _publicEndPoint;
    private bool _publicStopped;
    private int _disposed;

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
        options.ThrowIfInvalid(SidecarOptionsValidator.Instance);
        _options = options;
        // The evaluator counts decisions (mesh.authz.decisions); the admission writes the one log line of each decision, with the
        // connection's details and, on a deny, the intention's ID and precedence.
        var evaluator = new IntentionEvaluator(intentions);
        _leaves = leaves;
        _bundles = bundles;
        loggerFactory ??= NullLoggerFactory.Instance;
        _logger = loggerFactory.CreateLogger<MeshSidecar>();
        _time = timeProvider ?? TimeProvider.System;
        // No validator logger: a refused certificate is logged once, by the admission or the dial, with its connection's ID.
        var tls = new MeshTlsFactory(leaves, new SvidValidator(bundles, timeProvider));
        _admission = new InboundAdmission(tls, evaluator, options.Service.Service, options.HandshakeTimeout, metrics: null, _logger);
        TrustDomain trustDomain = options.TrustDomain;
        _dialer = new MeshDialer(
            tls,
            catalog,
            options.Service,
            () => trustDomain,
            new MeshDialerSettings(options.UpstreamConnectTimeout, options.HandshakeTimeout, options.OutboundAddress ?? options.PublicListener!.Address),
            new EndpointOutlierDetector("sidecar", options.OutlierDetection, _time, loggerFactory.CreateLogger<EndpointOutlierDetector>()),
            metrics: null,
            _logger);
        _splicer = new TcpSplicer(loggerFactory.CreateLogger<TcpSplicer>());
        _upstreams = new SidecarUpstreams(options.Service, (socket, listener) => _ = HandleUpstreamAsync(socket, listener), _logger);
    }

    /// <summary>Where the public listener accepts, with the port picked for port 0; null before <see cref="StartAsync"/>.</summary>
    public IPEndPoint? PublicEndPoint => _publicEndPoint;

    /// <summary>
    /// Whether the local application passes its check (<see cref="SidecarOptions.LocalApplicationCheckAddress"/>); true when the
    /// check is off. While it is false the public listener is closed: connections to it are refused before any handshake.
    /// </summary>
    public bool IsLocalApplicationHealthy => _check?.IsHealthy ?? true;

    /// <summary>
    /// Where each upstream listener accepts, in the order of the current upstreams (<see cref="SidecarOptions.Upstreams"/>, or
    /// the last <see cref="UpdateUpstreams"/>); an upstream that could not be bound is left out.
    /// </summary>
    public IReadOnlyList<IPEndPoint> UpstreamEndPoints => _upstreams.EndPoints;

    /// <summary>The connections the sidecar holds now, both directions, including those of removed upstreams still draining.</summary>
    public int ActiveConnections => _group.Active + _upstreams.Active;

    /// <summary>Where the listener of <paramref name="upstream"/> (matched by value) accepts now; null when it does not listen.</summary>
    public IPEndPoint? GetUpstreamEndPoint(MeshUpstream upstream)
    {
        ArgumentNullException.ThrowIfNull(upstream);
        return _upstreams.Find(upstream);
    }

    /// <summary>Waits for the first leaf and trust bundle, then binds the public and upstream listeners and starts accepting.</summary>
    /// <exception cref="SocketException">The public listener or an upstream's address cannot be bound.</exception>
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

        // At start an upstream that cannot be bound fails the start (a host reports it and exits); while running, see UpdateUpstreams.
        _upstreams.Start(_options.Upstreams);
    }

    /// <summary>
    /// Changes the upstream listeners while the sidecar runs, as Consul's proxies follow their registration: listeners of new
    /// upstreams bind and accept; removed ones stop accepting at once (new connections are refused) while their open connections
    /// go on until they end or <paramref name="cancellationToken"/> fires, when they are reset, as <see cref="StopAsync"/> drains.
    /// Upstreams in both sets (same destination, datacenter, subset and configured bind address) are untouched, open
    /// connections included. An upstream whose address cannot be bound is logged and reported in
    /// <see cref="SidecarUpstreamUpdate.Failed"/>; the others apply.
    /// </summary>
    /// <param name="upstreams">The whole new set, each with its <see cref="MeshUpstream.LocalBindAddress"/>.</param>
    /// <param name="cancellationToken">Ends the drain of the removed upstreams.</param>
    /// <returns>What changed; the new set is in force on return, <see cref="SidecarUpstreamUpdate.Drained"/> follows the drain.</returns>
    /// <exception cref="ArgumentException">An upstream is invalid; the message names it. Nothing changed.</exception>
    /// <exception cref="InvalidOperationException">The sidecar is not running (before <see cref="StartAsync"/>, after <see cref="StopAsync"/>).</exception>
    public SidecarUpstreamUpdate UpdateUpstreams(IReadOnlyList<MeshUpstream> upstreams, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(upstreams);
        var failures = new List<string>();
        SidecarOptionsValidator.AddUpstreamFailures(failures, upstreams);
        if (failures.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", failures), nameof(upstreams));
        }

        return _upstreams.Update(upstreams, cancellationToken);
    }

    /// <summary>Stops accepting, waits for open connections until <paramref name="cancellationToken"/> fires, then resets the rest.</summary>
    public Task StopAsync(CancellationToken cancellationToken = default)
    {
        SidecarLog.Draining(_logger, _options.Service, ActiveConnections);
        return StopCoreAsync(cancellationToken);
    }

    /// <summary>Stops at once: open connections are reset.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _upstreams.EndDrainsAsync().ConfigureAwait(false);
        using (var now = new CancellationTokenSource())
        {
            await now.CancelAsync().ConfigureAwait(false);
            await StopCoreAsync(now.Token).ConfigureAwait(false);
        }

        _group.Dispose();
        _upstreams.Dispose();
    }

    private async Task StopCoreAsync(CancellationToken cancellationToken)
    {
        await ClosePublicListenerForGoodAsync().ConfigureAwait(false);
        await Task.WhenAll(_group.StopAsync(cancellationToken), _upstreams.StopAsync(cancellationToken)).ConfigureAwait(false);
    }

    private async Task ClosePublicListenerForGoodAsync()
    {
        lock (_publicLock)
        {
            _publicStopped = true;
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
            if (_publicStopped)
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

    // The upstream listener's side of the dial: the dial itself (endpoints, gateway, mTLS, identity) is MeshDialer's, which logs
    // and traces its outcome; this resets the application's connection on failure or splices it to the mesh connection.
    private async Task HandleUpstreamAsync(Socket client, SidecarUpstreamListener listener)
    {
        ListenerGroup connections = listener.Connections;
        connections.Enter();
        bool handedOver = false;
        try
        {
            CancellationToken stopping = connections.Stopping;
            EndPoint? clientRemote = client.RemoteEndPoint;
            EndPoint? clientLocal = client.LocalEndPoint;
            client.NoDelay = true;
            MeshDialResult dial = await _dialer.DialAsync(listener.Target, clientRemote, clientLocal, stopping).ConfigureAwait(false);
            if (!dial.IsConnected)
            {
                return;
            }

            handedOver = true;
            await _splicer.SpliceAsync(client, dial.Tls!, dial.Transport, default, _options.Splice, stopping).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
        {
        }
        finally
        {
            if (!handedOver)
            {
                // A reset, so the application never takes a failed dial for a clean end of stream.
                OutboundConnector.Close(client, reset: true);
            }

            connections.Exit();
        }
    }
}
