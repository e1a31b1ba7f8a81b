using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
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
using Microsoft.Extensions.Options;

namespace Mesh.Tls.InProcess;

/// <summary>
/// A .NET service as a first-class mesh member, with no sidecar (the counterpart of Consul's <c>connect.Service</c>): it holds
/// the service's SPIFFE identity (leaf and trust bundle from the leaf and bundle sources, kept current by rotation), dials
/// upstreams over mesh mTLS with the Consul SNI and the expected server identity, and accepts mesh mTLS connections, validating
/// the caller's X.509-SVID and asking the intentions, with the sidecar's deny behaviour (a reset after the handshake).
/// </summary>
/// <remarks>
/// Same wire as the sidecar: a sidecar-fronted caller reaches an in-process service, and an in-process caller reaches a
/// sidecar-fronted one, directly or through the mesh gateways. Every handshake reads the current leaf and bundle, so a
/// rotation takes effect for new connections while open ones stay up.
/// </remarks>
public sealed class MeshService : IAsyncDisposable
{
    private readonly MeshOptions _options;
    private readonly ServiceIdentity _identity;
    // Boxed so that a trust domain learned from the first leaf is published atomically.
    private StrongBox<TrustDomain>? _trustDomain;
    private readonly ILeafSource _leaves;
    private readonly ITrustBundleSource _bundles;
    private readonly IServiceCatalog _catalog;
    private readonly IntentionEvaluator _intentions;
    private readonly InboundAdmission _admission;
    private readonly MeshTlsFactory _tls;
    private readonly ILogger _logger;
    private readonly ILoggerFactory _loggerFactory;
    private readonly TlsMetrics _metrics;
    private readonly EndpointRotation _rotation = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Func<CancellationToken, Task>? _bootstrap;
    private readonly List<IAsyncDisposable> _owned;
    private int _started;

    /// <summary>Creates a mesh member over given sources; <see cref="StartAsync"/> waits for its first leaf and bundle.</summary>
    /// <param name="options">Who the service is; <see cref="MeshOptions.TrustDomain"/> is required here.</param>
    /// <param name="leaves">The service's leaf certificates (a <see cref="Rotation.LeafRotationManager"/> over the CA client).</param>
    /// <param name="bundles">The trust bundle (the CA client follows the CA's roots).</param>
    /// <param name="catalog">Healthy endpoints and mesh gateways.</param>
    /// <param name="intentions">The intentions deciding who may call this service.</param>
    /// <param name="loggerFactory">Logs; none when null.</param>
    /// <param name="timeProvider">The clock for certificate validity; the system clock when null.</param>
    /// <exception cref="OptionsValidationException">An option is invalid; the messages name it.</exception>
    public MeshService(
        MeshOptions options,
        ILeafSource leaves,
        ITrustBundleSource bundles,
        IServiceCatalog catalog,
        IIntentionSource intentions,
        ILoggerFactory? loggerFactory = null,
        TimeProvider? timeProvider = null)
        : this(Validated(options), null, leaves, bundles, catalog, intentions, loggerFactory, timeProvider, null, [])
    {
    }

    internal MeshService(
        MeshOptions options,
        TrustDomain? trustDomain,
        ILeafSource leaves,
        ITrustBundleSource bundles,
        IServiceCatalog catalog,
        IIntentionSource intentions,
        ILoggerFactory? loggerFactory,
        TimeProvider? timeProvider,
        Func<CancellationToken, Task>? bootstrap,
        List<IAsyncDisposable> owned,
        IMeterFactory? meterFactory = null,
        bool trustDomainFromLeaf = false)
    {
        ArgumentNullException.ThrowIfNull(leaves);
        ArgumentNullException.ThrowIfNull(bundles);
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(intentions);
        _options = options;
        _trustDomain = trustDomain is { } known ? new(known) : trustDomainFromLeaf ? null : new(TrustDomain.Parse(options.TrustDomain
            ?? throw new OptionsValidationException(nameof(MeshOptions), typeof(MeshOptions), ["MeshOptions.TrustDomain is required when no control-plane file gives it."])));
        _identity = new ServiceIdentity(options.ServiceName, options.Datacenter!);
        _leaves = leaves;
        _bundles = bundles;
        _catalog = catalog;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggerFactory.CreateLogger<MeshService>();
        IIntentionSource source = options.DefaultIntentionPolicy is { } policy
            ? new DefaultPolicyIntentionSource(intentions, policy == "allow" ? IntentionAction.Allow : IntentionAction.Deny)
            : intentions;
        // The evaluator counts decisions (mesh.authz.decisions); this class writes the log lines, with the connection's details.
        _metrics = TlsMetrics.For(meterFactory);
        var evaluator = new IntentionEvaluator(source, meterFactory: meterFactory);
        _intentions = evaluator;
        // No validator logger: a refused certificate is logged once, by the admission or the dial, with its connection's ID.
        _tls = new MeshTlsFactory(leaves, new SvidValidator(bundles, timeProvider) { Metrics = _metrics });
        _admission = new InboundAdmission(_tls, evaluator, _identity.Service, options.HandshakeTimeout, _metrics, _logger);
        _bootstrap = bootstrap;
        _owned = owned;
    }

    /// <summary>The service and datacenter this member is.</summary>
    public ServiceIdentity Identity => _identity;

    /// <summary>The mesh's trust domain.</summary>
    /// <exception cref="InvalidOperationException">The trust domain comes from the first leaf, and <see cref="Ready"/> has not completed.</exception>
    public TrustDomain TrustDomain => Volatile.Read(ref _trustDomain)?.Value
        ?? throw new InvalidOperationException("The trust domain is known once the first leaf is in: await MeshService.Ready first (or set MeshOptions.TrustDomain).");

    /// <summary>The service's SPIFFE ID, the one in its leaf certificate.</summary>
    public SpiffeId SpiffeId => _identity.ToSpiffeId(TrustDomain);

    /// <summary>Whether the first leaf and trust bundle are in hand.</summary>
    public bool IsReady => _ready.Task.IsCompletedSuccessfully;

    /// <summary>Completes when the first leaf and trust bundle are in hand (or faults when starting failed).</summary>
    public Task Ready => _ready.Task;

    /// <summary>The leaf certificate in use now; null before <see cref="Ready"/>.</summary>
    public LeafCertificate? CurrentLeaf => _leaves.Current;

    /// <summary>The trust bundle in use now.</summary>
    public TrustBundle CurrentBundle => _bundles.Current;

    /// <summary>
    /// Bootstraps the identity (roots from the CA, a CSR for the first leaf, renewal in the background when this member owns its
    /// CA client) and waits for the first leaf and trust bundle. Idempotent.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _started, 1) == 1)
        {
            await _ready.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            return;
        }

        try
        {
            if (_bootstrap is not null)
            {
                await _bootstrap(cancellationToken).ConfigureAwait(false);
            }

            LeafCertificate leaf = await _leaves.GetLeafAsync(cancellationToken).ConfigureAwait(false);
            await _bundles.GetBundleAsync(cancellationToken).ConfigureAwait(false);
            // A control plane that issues the leaf itself (a Consul agent) names the trust domain in the leaf's SPIFFE ID.
            Interlocked.CompareExchange(ref _trustDomain, new StrongBox<TrustDomain>(leaf.Id.TrustDomain), null);
            _ready.TrySetResult();
            InProcessLog.Ready(_logger, _identity, SpiffeId);
        }
        catch (Exception ex)
        {
            // Let a later StartAsync try again; waiters of Ready see why this attempt failed only if nobody retries.
            Volatile.Write(ref _started, 0);
            if (ex is not OperationCanceledException)
            {
                _ready.TrySetException(ex);
            }

            throw;
        }
    }

    /// <summary>
    /// Dials an upstream over mesh mTLS: endpoints from the catalog (the destination's mesh endpoints in the local datacenter,
    /// the local mesh gateways for a remote one), the Consul SNI of the destination, and a server that must prove the destination's
    /// SPIFFE identity.
    /// </summary>
    /// <param name="upstream">A configured upstream's name, or a service the catalog knows.</param>
    /// <param name="datacenter">The destination's datacenter; the configured upstream's, else this service's.</param>
    /// <param name="namespace">The destination's namespace; the configured upstream's, else this service's.</param>
    /// <param name="subset">A service subset: its SNI name, and endpoints whose <c>subset</c> metadata names it.</param>
    /// <param name="cancellationToken">Cancels the dial.</param>
    /// <returns>The authenticated stream; dispose it to close the connection.</returns>
    /// <exception cref="MeshConnectionException">Unknown upstream, no healthy endpoint, connect failure, identity mismatch or handshake failure.</exception>
    public async ValueTask<MeshStream> DialAsync(
        string upstream,
        string? datacenter = null,
        string? @namespace = null,
        string? subset = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(upstream);
        if (!IsReady)
        {
            await _ready.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        long id = ConnectionIds.Next();
        MeshUpstreamOptions? configured = _options.FindUpstream(upstream);
        string dc = datacenter ?? configured?.Datacenter ?? _identity.Datacenter;
        string label = datacenter is null && @namespace is null && subset is null && configured is null ? upstream + "@" + dc : Label(upstream, dc, @namespace, subset);
        using Activity? activity = TlsActivity.StartOutbound(_identity, upstream, label);
        ServiceName destination;
        try
        {
            destination = new ServiceName(upstream, @namespace ?? configured?.Namespace ?? _identity.Service.Namespace, configured?.Partition ?? _identity.Service.Partition);
            if (subset is not null)
            {
                ServiceName.CheckPart(subset, "subset", nameof(subset));
            }
        }
        catch (ArgumentException ex)
        {
            throw Fail(id, MeshConnectionError.UnknownUpstream, label, ex.Message, ex);
        }

        bool local = string.Equals(dc, _identity.Datacenter, StringComparison.Ordinal);
        if (configured is null && !Knows(destination, dc))
        {
            throw Fail(id, MeshConnectionError.UnknownUpstream, label,
                $"it is neither a configured upstream (MeshOptions.Upstreams) nor a service the catalog lists in datacenter '{dc}'");
        }

        IPEndPoint[] targets = local ? LocalEndpoints(destination, dc, subset) : GatewayEndpoints();
        if (targets.Length == 0)
        {
            throw Fail(id, MeshConnectionError.NoHealthyEndpoint, label, local
                ? $"the catalog lists no healthy endpoint of {destination} in {dc}{(subset is null ? string.Empty : " for subset " + subset)}"
                : $"the catalog lists no mesh gateway in the local datacenter {_identity.Datacenter} to reach {dc}");
        }

        Socket? socket = null;
        string? lastError = null;
        int start = _rotation.NextStart(targets.Length);
        for (int i = 0; i < targets.Length && socket is null; i++)
        {
            IPEndPoint endpoint = targets[(start + i) % targets.Length];
            (socket, Exception? error) = await OutboundConnector.TryConnectAsync(endpoint, null, _options.ConnectTimeout, cancellationToken).ConfigureAwait(false);
            if (error is not null)
            {
                lastError = $"{endpoint}: {error.Message}";
                InProcessLog.EndpointFailed(_logger, id, label, endpoint, error.Message);
            }
        }

        if (socket is null)
        {
            throw Fail(id, MeshConnectionError.ConnectFailed, label, $"no endpoint of {targets.Length} accepted a connection (last: {lastError})");
        }

        // SNI is the destination's Consul name; the server is checked by the SPIFFE ID in its certificate, never by the SNI.
        string sni = ConsulSniName.ForService(destination, dc, TrustDomain, subset).ToString();
        var expected = PeerAuthorizer.Service(new ServiceIdentity(destination, dc), TrustDomain);
        var tls = new SslStream(new SocketTransportStream(socket), leaveInnerStreamOpen: false);
        MeshTlsHandshake check = _tls.CreateClientHandshake(sni, expected);
        long started = Stopwatch.GetTimestamp();
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.HandshakeTimeout);
            await tls.AuthenticateAsClientAsync(check.ClientOptions!, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException or OperationCanceledException or InvalidOperationException)
        {
            _metrics.Handshake(TlsMetrics.Client, succeeded: false, started);
            await tls.DisposeAsync().ConfigureAwait(false);
            socket.Dispose();
            cancellationToken.ThrowIfCancellationRequested();
            if (check.Result.Status == SvidValidationStatus.IdentityMismatch)
            {
                throw Fail(id, MeshConnectionError.IdentityMismatch, label,
                    $"the server at {targets[start]} is {check.Result.PeerId}, not {expected}", ex, check.Result.PeerId);
            }

            string reason = check.Result.Detail is not null && !check.Result.IsValid
                ? $"the server's certificate was refused: {check.Result}"
                : ex is OperationCanceledException ? $"no handshake within {_options.HandshakeTimeout.TotalSeconds:0.#} s" : $"mTLS handshake failed: {ex.Message}";
            throw Fail(id, MeshConnectionError.HandshakeFailed, label, reason, ex, check.Result.PeerId);
        }

        _metrics.Handshake(TlsMetrics.Client, succeeded: true, started);
        TlsActivity.Connected(activity, socket.RemoteEndPoint, sni, tls, check.Result.PeerId);
        InProcessLog.Dialed(_logger, id, label, socket.LocalEndPoint, socket.RemoteEndPoint, sni, check.Result.PeerId);
        return new MeshStream(tls, socket, check.Result.PeerId, label, socket.LocalEndPoint, socket.RemoteEndPoint);
    }

    /// <summary>
    /// Terminates mesh mTLS on an accepted connection and validates the caller's X.509-SVID, without asking the intentions
    /// (see <see cref="Authorize"/>; <see cref="AcceptAsync(Socket, CancellationToken)"/> does both).
    /// </summary>
    /// <param name="transport">The accepted connection; disposed when authentication fails.</param>
    /// <param name="cancellationToken">Cancels the handshake.</param>
    /// <exception cref="MeshConnectionException">The handshake failed or the caller's certificate was refused.</exception>
    public ValueTask<MeshStream> AuthenticateAsync(Stream transport, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transport);
        return AcceptCoreAsync(transport, null, null, null, InboundAdmissionMode.AuthenticateOnly, TlsActivity.CurrentInbound, cancellationToken);
    }

    /// <summary>Decides whether the authenticated caller <paramref name="peer"/> may open a connection to this service (L4).</summary>
    /// <remarks>
    /// An intention with HTTP permissions denies plain connections
    /// (<see cref="IntentionDecisionReason.MatchedL7IntentionOnConnection"/>); an HTTP server lets such a connection in and decides
    /// each request with <see cref="AuthorizeHttp{TRequest}"/>.
    /// </remarks>
    public IntentionDecision Authorize(SpiffeId peer) => _admission.Authorize(peer);

    /// <summary>Decides whether the authenticated caller <paramref name="peer"/> may make this HTTP request (L7 intentions).</summary>
    public IntentionDecision AuthorizeHttp<TRequest>(SpiffeId peer, ref TRequest request)
        where TRequest : IIntentionHttpRequest, allows ref struct =>
        ServiceIdentity.TryFromSpiffeId(peer, out ServiceIdentity source) ? _intentions.AuthorizeHttp(source.Service, _identity.Service, ref request) : default;

    /// <summary>
    /// Accepts a caller as the sidecar does: mTLS termination, SVID validation, then the intentions; a refused or denied caller
    /// is reset (so it never takes the refusal for a clean end of stream) and the refusal is logged.
    /// </summary>
    /// <param name="socket">An accepted socket; owned by the returned stream, or reset and disposed on refusal.</param>
    /// <param name="cancellationToken">Cancels the handshake.</param>
    /// <exception cref="MeshConnectionException">The caller was refused (<see cref="MeshConnectionError.HandshakeFailed"/>) or denied.</exception>
    public async ValueTask<MeshStream> AcceptAsync(Socket socket, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(socket);
        EndPoint? remote = null;
        EndPoint? local = null;
        try
        {
            remote = socket.RemoteEndPoint;
            local = socket.LocalEndPoint;
            socket.NoDelay = true;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            socket.Dispose();
            throw new MeshConnectionException(MeshConnectionError.HandshakeFailed, null, $"The connection closed before the handshake: {ex.Message}", ex);
        }

        using Activity? activity = TlsActivity.StartInbound(remote, local, _identity);
        return await AcceptCoreAsync(new SocketTransportStream(socket), socket, remote, local, InboundAdmissionMode.Connection, activity, cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>
    /// Accepts a caller over any stream (a pipe, an in-memory transport): as <see cref="AcceptAsync(Socket, CancellationToken)"/>,
    /// except that a refused caller's stream is disposed rather than reset.
    /// </summary>
    public async ValueTask<MeshStream> AcceptAsync(Stream transport, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transport);
        using Activity? activity = TlsActivity.StartInbound(null, null, _identity);
        return await AcceptCoreAsync(transport, null, null, null, InboundAdmissionMode.Connection, activity, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Listens for mesh mTLS callers on <paramref name="endPoint"/> (port 0 picks one); accept them with <see cref="MeshListener.AcceptAsync"/>.</summary>
    public MeshListener Listen(IPEndPoint endPoint)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        var listener = new MeshListener(this, endPoint, _loggerFactory.CreateLogger<MeshListener>());
        InProcessLog.Listening(_logger, _identity, listener.LocalEndPoint);
        return listener;
    }

    /// <summary>
    /// An HTTP handler whose connections go over the mesh: the request's host names the upstream (<c>http://counting/</c>).
    /// The mesh TLS hides ALPN from the handler, so HTTP/2 runs as prior knowledge: set the request version to 2.0 with
    /// <see cref="HttpVersionPolicy.RequestVersionExact"/>.
    /// </summary>
    public SocketsHttpHandler CreateHttpMessageHandler() => new()
    {
        UseProxy = false,
        ConnectCallback = async (context, cancellationToken) =>
            await DialAsync(context.DnsEndPoint.Host, cancellationToken: cancellationToken).ConfigureAwait(false),
    };

    /// <summary>Stops the renewal and control-plane watching this member owns; open connections are the caller's to close.</summary>
    public async ValueTask DisposeAsync()
    {
        for (int i = _owned.Count - 1; i >= 0; i--)
        {
            await _owned[i].DisposeAsync().ConfigureAwait(false);
        }

        _owned.Clear();
        InProcessLog.Stopped(_logger, _identity);
    }

    /// <summary>
    /// Admits a connection an HTTP server accepted (Kestrel's mesh listener in Mesh.AspNetCore): mTLS termination, SVID
    /// validation, then the intentions, except that a caller whose intention has HTTP permissions is let in so that the server
    /// decides each request (Consul's L7 intentions). A refusal is logged and traced once, with <paramref name="remote"/> and
    /// <paramref name="local"/>; the server resets its own transport. Waits for the first leaf.
    /// </summary>
    /// <param name="transport">The accepted connection's bytes; owned by the returned stream.</param>
    /// <param name="remote">The caller's address, for the log line and the span.</param>
    /// <param name="local">The address the caller reached.</param>
    /// <param name="cancellationToken">Cancels the wait for the first leaf and the handshake.</param>
    public async ValueTask<MeshHttpAdmission> AdmitHttpConnectionAsync(Stream transport, EndPoint? remote, EndPoint? local, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transport);

        // One span from the handshake to the decision; it ends before the server serves requests, so request spans are not
        // children of a connection that may live for hours.
        using Activity? activity = TlsActivity.StartInbound(remote, local, _identity);
        InboundAdmissionResult admission = await AdmitAsync(transport, remote, local, InboundAdmissionMode.HttpConnection, activity, cancellationToken).ConfigureAwait(false);
        return new MeshHttpAdmission(new MeshStream(admission.Tls, null, admission.Peer, null, local, remote), admission.IsAdmitted, admission.Decision);
    }

    /// <summary>
    /// Admits an inbound connection (handshake, SVID, intentions as <paramref name="mode"/> says), logged and traced once by
    /// <see cref="InboundAdmission"/>; the caller decides what a refusal does to its transport. Waits for the first leaf.
    /// </summary>
    internal async ValueTask<InboundAdmissionResult> AdmitAsync(
        Stream transport, EndPoint? remote, EndPoint? local, InboundAdmissionMode mode, Activity? activity, CancellationToken cancellationToken)
    {
        if (!IsReady)
        {
            await _ready.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        return await _admission.AdmitAsync(transport, remote, local, mode, activity, cancellationToken).ConfigureAwait(false);
    }

    // The in-process side of admission: an admitted caller becomes a MeshStream; a refused or denied one is reset (as the
    // sidecar does, so it never takes the refusal for a clean end of stream) and the refusal becomes an exception.
    private async ValueTask<MeshStream> AcceptCoreAsync(
        Stream transport, Socket? socket, EndPoint? remote, EndPoint? local, InboundAdmissionMode mode, Activity? activity, CancellationToken cancellationToken)
    {
        InboundAdmissionResult admission;
        try
        {
            admission = await AdmitAsync(transport, remote, local, mode, activity, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            if (socket is not null)
            {
                OutboundConnector.Close(socket, reset: true);
            }

            await transport.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        var stream = new MeshStream(admission.Tls, socket, admission.Peer, null, local, remote);
        if (admission.IsAdmitted)
        {
            if (admission.Status != InboundAdmissionStatus.Authenticated && _logger.IsEnabled(LogLevel.Debug))
            {
#pragma warning disable CA1873 // Guarded by IsEnabled above.
                InProcessLog.Accepted(_logger, admission.ConnectionId, admission.Peer, admission.Decision.ToString(), remote, local);
#pragma warning restore CA1873
            }

            return stream;
        }

        stream.Abort();
        if (admission.Status == InboundAdmissionStatus.Denied)
        {
            throw new MeshConnectionException(MeshConnectionError.DeniedByIntention, null, $"Caller {admission.Peer} denied: {admission.Reason}") { Peer = admission.Peer };
        }

        cancellationToken.ThrowIfCancellationRequested();
        throw new MeshConnectionException(MeshConnectionError.HandshakeFailed, null,
            $"Caller {remote?.ToString() ?? "(stream)"} refused during the mTLS handshake: {admission.Reason}", admission.Error)
        {
            Peer = admission.Peer,
        };
    }

    private bool Knows(ServiceName destination, string datacenter)
    {
        foreach (ServiceName service in _catalog.GetServices(datacenter))
        {
            if (service == destination)
            {
                return true;
            }
        }

        return false;
    }

    // Without a service-resolver in the control-plane file, an endpoint's "subset" metadata names the subset it belongs to.
    private IPEndPoint[] LocalEndpoints(ServiceName destination, string datacenter, string? subset) =>
        EndpointAddresses.Of(_catalog.GetHealthyEndpoints(destination, datacenter), subset);

    private IPEndPoint[] GatewayEndpoints()
    {
        IReadOnlyList<MeshGatewayEndpoint> gateways = _catalog.GetMeshGateways(_identity.Datacenter);
        var lan = new IPEndPoint[gateways.Count];
        for (int i = 0; i < lan.Length; i++)
        {
            lan[i] = gateways[i].LanAddress;
        }

        return lan;
    }

    private MeshConnectionException Fail(long id, MeshConnectionError error, string upstream, string reason, Exception? inner = null, SpiffeId peer = default)
    {
        InProcessLog.DialFailed(_logger, id, upstream, error, reason);
        TlsActivity.Failed(TlsActivity.CurrentOutbound, error, reason);
        return new MeshConnectionException(error, upstream, $"Upstream {upstream}: {reason}.", inner) { Peer = peer };
    }

    private static string Label(string upstream, string datacenter, string? @namespace, string? subset) =>
        (subset is null ? string.Empty : subset + ".") + upstream + (@namespace is null ? string.Empty : "." + @namespace) + "@" + datacenter;

    private static MeshOptions Validated(MeshOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Configuration.OptionsValidation.ThrowIfInvalid(options, MeshOptionsValidator.Instance);
        return options;
    }
}
