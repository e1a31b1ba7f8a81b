using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
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
    private readonly MeshDialer _dialer;
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
        _dialer = new MeshDialer(
            _tls,
            catalog,
            _identity,
            () => TrustDomain,
            new MeshDialerSettings(options.ConnectTimeout, options.HandshakeTimeout, SourceAddress: null),
            new EndpointOutlierDetector("in_process", timeProvider: timeProvider, logger: _loggerFactory.CreateLogger<EndpointOutlierDetector>(), meterFactory: meterFactory),
            _metrics,
            _logger);
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

        MeshUpstream? configured = _options.FindUpstream(upstream);
        string dc = datacenter ?? configured?.Datacenter ?? _identity.Datacenter;
        subset ??= configured?.Subset;
        MeshDialTarget? target = null;
        string? invalid = null;
        try
        {
            target = new MeshDialTarget(
                new ServiceName(upstream, @namespace ?? configured?.Namespace ?? _identity.Service.Namespace, configured?.Partition ?? _identity.Service.Partition),
                dc,
                subset);
        }
        catch (ArgumentException ex)
        {
            invalid = ex.Message;
        }

        MeshDialResult result = target is null
            ? _dialer.Refuse(upstream, Label(upstream, dc, subset), MeshDialStatus.UnknownUpstream, invalid!)
            : configured is null && !Knows(target.Destination, dc)
                ? _dialer.Refuse(upstream, target.Label, MeshDialStatus.UnknownUpstream,
                    $"it is neither a configured upstream (MeshOptions.Upstreams) nor a service the catalog lists in datacenter '{dc}'")
                : await _dialer.DialAsync(target, null, null, cancellationToken).ConfigureAwait(false);
        string label = target?.Label ?? Label(upstream, dc, subset);
        if (result.IsConnected)
        {
            return new MeshStream(result.Tls!, result.Socket, result.Peer, label, result.LocalEndPoint, result.RemoteEndPoint);
        }

        if (result.Status == MeshDialStatus.Canceled)
        {
            throw new OperationCanceledException(cancellationToken);
        }

        throw new MeshConnectionException(ToError(result.Status), label, $"Upstream {label}: {result.Reason}.", result.Error) { Peer = result.Peer };
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

    // The documented errors of DialAsync, from the dial's status: a missing gateway is a missing endpoint to the caller.
    private static MeshConnectionError ToError(MeshDialStatus status) => status switch
    {
        MeshDialStatus.UnknownUpstream => MeshConnectionError.UnknownUpstream,
        MeshDialStatus.NoHealthyEndpoint or MeshDialStatus.NoGateway => MeshConnectionError.NoHealthyEndpoint,
        MeshDialStatus.ConnectFailed => MeshConnectionError.ConnectFailed,
        MeshDialStatus.IdentityMismatch => MeshConnectionError.IdentityMismatch,
        _ => MeshConnectionError.HandshakeFailed,
    };

    // For a name that cannot form a target: the same shape as MeshDialTarget.Label.
    private static string Label(string upstream, string datacenter, string? subset) =>
        (subset is null ? string.Empty : subset + ".") + upstream + "@" + datacenter;

    private static MeshOptions Validated(MeshOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.ThrowIfInvalid(MeshOptionsValidator.Instance);
        return options;
    }
}
