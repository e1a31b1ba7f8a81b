using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using Mesh.ControlPlane;
using Mesh.Diagnostics;
using Mesh.Endpoints;
using Mesh.Identity;
using Mesh.Naming;
using Mesh.Splicing;
using Mesh.Tls.Diagnostics;
using Mesh.Tls.MutualTls;
using Mesh.Tls.Validation;
using Microsoft.Extensions.Logging;

namespace Mesh.Tls.Outbound;

/// <summary>
/// Dials one outbound mesh connection, the same for a sidecar's upstream listener and an in-process service: the destination's
/// healthy endpoints in the local datacenter, or the local mesh gateways for another one (Consul's mesh gateway mode
/// <c>local</c>); an outlier-aware round robin over them; then client mTLS with the destination's Consul SNI name, and a server
/// that must prove the destination's SPIFFE identity (checked by the ID in its certificate, never by the SNI or the address).
/// </summary>
/// <remarks>
/// Every outcome is a <see cref="MeshDialResult"/>, logged and traced here once; what a failure does to the caller (a reset of the
/// application's connection, an exception) is the adapter's.
/// </remarks>
internal sealed class MeshDialer
{
    private readonly MeshTlsFactory _tls;
    private readonly IServiceCatalog _catalog;
    private readonly ServiceIdentity _source;
    private readonly Func<TrustDomain> _trustDomain;
    private readonly MeshDialerSettings _settings;
    private readonly EndpointOutlierDetector _outliers;
    private readonly TlsMetrics? _metrics;
    private readonly ILogger _logger;

    /// <param name="tls">The handshakes, with the current leaf and trust bundle.</param>
    /// <param name="catalog">Healthy endpoints and mesh gateways.</param>
    /// <param name="source">The dialling service: its datacenter decides local or through a gateway.</param>
    /// <param name="trustDomain">The mesh's trust domain, read at each dial (an in-process service may learn it from its first leaf).</param>
    /// <param name="settings">Timeouts and source address.</param>
    /// <param name="outliers">The rotation over a destination's endpoints, which takes those that refuse connections out of it.</param>
    /// <param name="metrics">Counts client handshakes; none when null.</param>
    /// <param name="logger">Where dials are logged.</param>
    public MeshDialer(
        MeshTlsFactory tls,
        IServiceCatalog catalog,
        ServiceIdentity source,
        Func<TrustDomain> trustDomain,
        MeshDialerSettings settings,
        EndpointOutlierDetector outliers,
        TlsMetrics? metrics,
        ILogger logger)
    {
        _tls = tls;
        _catalog = catalog;
        _source = source;
        _trustDomain = trustDomain;
        _settings = settings;
        _outliers = outliers;
        _metrics = metrics;
        _logger = logger;
    }

    /// <summary>
    /// The addresses to dial for <paramref name="target"/>, in catalog order: the destination's healthy endpoints (only those of
    /// its subset when it names one) in the local datacenter, else the LAN addresses of the local mesh gateways, which route by
    /// the SNI to the destination's datacenter.
    /// </summary>
    public IPEndPoint[] Resolve(MeshDialTarget target, out bool throughGateway)
    {
        throughGateway = !string.Equals(target.Datacenter, _source.Datacenter, StringComparison.Ordinal);
        if (!throughGateway)
        {
            // Without a service-resolver in the control plane, an endpoint's "subset" metadata names the subset it belongs to.
            return ServiceEndpoint.AddressesOf(_catalog.GetHealthyEndpoints(target.Destination, target.Datacenter), target.Subset);
        }

        IReadOnlyList<MeshGatewayEndpoint> gateways = _catalog.GetMeshGateways(_source.Datacenter);
        var lan = new IPEndPoint[gateways.Count];
        for (int i = 0; i < lan.Length; i++)
        {
            lan[i] = gateways[i].LanAddress;
        }

        return lan;
    }

    /// <summary>Dials <paramref name="target"/>.</summary>
    /// <param name="target">The destination.</param>
    /// <param name="clientRemote">For a sidecar: the application's end of the connection the dial serves, named in the log lines; null in-process.</param>
    /// <param name="clientLocal">For a sidecar: the upstream listener's end of that connection.</param>
    /// <param name="cancellationToken">Ends the dial as <see cref="MeshDialStatus.Canceled"/>.</param>
    public async ValueTask<MeshDialResult> DialAsync(MeshDialTarget target, EndPoint? clientRemote, EndPoint? clientLocal, CancellationToken cancellationToken)
    {
        long id = ConnectionIds.Next();
        Activity? activity = TlsActivity.StartOutbound(_source, target.Destination.ToString(), target.Label);
        try
        {
            return await DialCoreAsync(id, target, clientRemote, clientLocal, activity, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            activity?.Stop();
        }
    }

    /// <summary>
    /// Records a dial refused before any connection (an in-process name that is neither configured nor in the catalog): one ID,
    /// one log line and one failed span, as a dial that failed later.
    /// </summary>
    public MeshDialResult Refuse(string destination, string label, MeshDialStatus status, string reason)
    {
        long id = ConnectionIds.Next();
        using Activity? activity = TlsActivity.StartOutbound(_source, destination, label);
        return Fail(id, label, null, activity, status, reason, null, default);
    }

    private async ValueTask<MeshDialResult> DialCoreAsync(
        long id, MeshDialTarget target, EndPoint? clientRemote, EndPoint? clientLocal, Activity? activity, CancellationToken cancellationToken)
    {
        string label = target.Label;
        IPEndPoint[] endpoints = Resolve(target, out bool throughGateway);
        if (endpoints.Length == 0)
        {
            return throughGateway
                ? Fail(id, label, clientRemote, activity, MeshDialStatus.NoGateway,
                    $"the catalog lists no mesh gateway in the local datacenter {_source.Datacenter} to reach {target.Datacenter}", null, default)
                : Fail(id, label, clientRemote, activity, MeshDialStatus.NoHealthyEndpoint,
                    $"the catalog lists no healthy endpoint of {target.Destination} in {target.Datacenter}{(target.Subset is null ? string.Empty : " for subset " + target.Subset)}", null, default);
        }

        Socket? socket;
        string? lastError = null;
        try
        {
            socket = await _outliers.TryEachAsync<IPEndPoint, Socket>(endpoints, async (endpoint, ct) =>
            {
                (Socket? connected, Exception? error) = await OutboundConnector.TryConnectAsync(endpoint, _settings.SourceAddress, _settings.ConnectTimeout, ct).ConfigureAwait(false);
                if (error is not null)
                {
                    lastError = $"{endpoint}: {error.Message}";
                    OutboundLog.EndpointFailed(_logger, id, label, endpoint, error.Message);
                }

                return connected;
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return Canceled(id, activity);
        }

        if (socket is null)
        {
            return Fail(id, label, clientRemote, activity, MeshDialStatus.ConnectFailed,
                $"no endpoint of {endpoints.Length} accepted a connection (last: {lastError})", null, default);
        }

        return await HandshakeAsync(id, target, socket, clientRemote, clientLocal, activity, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<MeshDialResult> HandshakeAsync(
        long id, MeshDialTarget target, Socket socket, EndPoint? clientRemote, EndPoint? clientLocal, Activity? activity, CancellationToken cancellationToken)
    {
        TrustDomain trustDomain = _trustDomain();
        // SNI is the destination's Consul name (a gateway routes by it); the server is checked by the SPIFFE ID in its certificate.
        string sni = ConsulSniName.ForService(target.Destination, target.Datacenter, trustDomain, target.Subset).ToString();
        var expected = PeerAuthorizer.Service(new ServiceIdentity(target.Destination, target.Datacenter), trustDomain);
        var transport = new SocketTransportStream(socket);
        var tls = new SslStream(transport, leaveInnerStreamOpen: false);
        long started = Stopwatch.GetTimestamp();
        ClientHandshakeResult handshake = await _tls.HandshakeAsClientAsync(tls, sni, expected, _settings.HandshakeTimeout, cancellationToken).ConfigureAwait(false);
        if (handshake.Error is { } error)
        {
            _metrics?.Handshake(TlsMetrics.Client, succeeded: false, started);
            EndPoint? server = socket.RemoteEndPoint;
            await tls.DisposeAsync().ConfigureAwait(false);
            socket.Dispose();
            if (cancellationToken.IsCancellationRequested)
            {
                return Canceled(id, activity);
            }

            SvidValidationResult check = handshake.Validation;
            (MeshDialStatus status, string reason) = !handshake.CertificateJudged || check.IsValid
                ? (MeshDialStatus.HandshakeFailed, error is OperationCanceledException
                    ? $"no handshake within {_settings.HandshakeTimeout.TotalSeconds:0.#} s"
                    : $"mTLS handshake failed: {error.Message}")
                : check.Status == SvidValidationStatus.IdentityMismatch
                    ? (MeshDialStatus.IdentityMismatch, $"the server at {server} is {check.PeerId}, not {expected} ({check})")
                    : (MeshDialStatus.CertificateRefused, $"the server's certificate was refused: {check}");
            return Fail(id, target.Label, clientRemote, activity, status, reason, error, check.PeerId);
        }

        _metrics?.Handshake(TlsMetrics.Client, succeeded: true, started);
        SpiffeId peer = handshake.Validation.PeerId;
        if (clientRemote is null && clientLocal is null)
        {
            OutboundLog.Dialed(_logger, id, target.Label, socket.LocalEndPoint, socket.RemoteEndPoint, sni, peer);
        }
        else
        {
            OutboundLog.Connected(_logger, id, target.Label, clientRemote, clientLocal, socket.LocalEndPoint, socket.RemoteEndPoint, sni, peer);
        }

        TlsActivity.Connected(activity, socket.RemoteEndPoint, sni, tls, peer);
        return MeshDialResult.Connected(id, socket, transport, tls, peer, sni);
    }

    private MeshDialResult Fail(
        long id, string label, EndPoint? clientRemote, Activity? activity, MeshDialStatus status, string reason, Exception? error, SpiffeId peer)
    {
        if (clientRemote is null)
        {
            OutboundLog.DialFailed(_logger, id, label, status, reason);
        }
        else
        {
            OutboundLog.Failed(_logger, id, label, clientRemote, status, reason);
        }

        TlsActivity.Failed(activity, status, reason);
        return MeshDialResult.Failed(status, id, reason, error, peer);
    }

    // Not a failure of the mesh: the caller gave up (a stopping sidecar, a cancelled request), so no warning is written.
    private static MeshDialResult Canceled(long id, Activity? activity)
    {
        TlsActivity.Failed(activity, MeshDialStatus.Canceled, null);
        return MeshDialResult.Failed(MeshDialStatus.Canceled, id, "the dial was cancelled");
    }
}
