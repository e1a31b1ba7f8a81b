using System.Diagnostics;
using System.Net;
using System.Net.Security;
using Mesh.Diagnostics;
using Mesh.Identity;
using Mesh.Intentions;
using Mesh.Tls.Diagnostics;
using Mesh.Tls.MutualTls;
using Mesh.Tls.Validation;
using Microsoft.Extensions.Logging;

namespace Mesh.Tls.Admission;

/// <summary>
/// Admits one inbound mesh connection, the same for the sidecar's public listener, an in-process service and a Kestrel endpoint:
/// the mTLS handshake within the handshake timeout, the caller's X.509-SVID, then the intentions for the caller's service, as
/// Consul's built-in proxy and Envoy's RBAC filter decide. Each outcome is logged and traced here, once; what happens to the
/// transport (a reset, a hand-off to the local application, a Kestrel abort) is the caller's.
/// </summary>
internal sealed class InboundAdmission
{
    private readonly MeshTlsFactory _tls;
    private readonly IntentionEvaluator _intentions;
    private readonly ServiceName _destination;
    private readonly TimeSpan _handshakeTimeout;
    private readonly TlsMetrics? _metrics;
    private readonly ILogger _logger;

    /// <param name="tls">The handshakes, with the current leaf and trust bundle.</param>
    /// <param name="intentions">The intentions deciding who may call <paramref name="destination"/>.</param>
    /// <param name="destination">The service the connections are for.</param>
    /// <param name="handshakeTimeout">How long a caller has to finish its handshake.</param>
    /// <param name="metrics">Counts handshakes; none when null.</param>
    /// <param name="logger">Where refusals and denials are logged.</param>
    public InboundAdmission(MeshTlsFactory tls, IntentionEvaluator intentions, ServiceName destination, TimeSpan handshakeTimeout, TlsMetrics? metrics, ILogger logger)
    {
        _tls = tls;
        _intentions = intentions;
        _destination = destination;
        _handshakeTimeout = handshakeTimeout;
        _metrics = metrics;
        _logger = logger;
    }

    /// <summary>Decides whether the authenticated caller <paramref name="peer"/> may open a connection (L4); a non-service identity is denied.</summary>
    public IntentionDecision Authorize(SpiffeId peer) =>
        ServiceIdentity.TryFromSpiffeId(peer, out ServiceIdentity source) ? _intentions.Authorize(source.Service, _destination) : default;

    /// <summary>
    /// Runs the handshake over <paramref name="transport"/> and, unless <paramref name="mode"/> says otherwise, asks the intentions.
    /// </summary>
    /// <param name="transport">The accepted connection; the returned TLS stream owns it.</param>
    /// <param name="remote">The caller's address, for the log lines; null when unknown.</param>
    /// <param name="local">This side's address, for the log lines; null when unknown.</param>
    /// <param name="mode">How far to go after the handshake.</param>
    /// <param name="activity">The connection's <c>mesh.inbound</c> span, tagged here; null when nobody listens.</param>
    /// <param name="cancellationToken">Cancels the handshake (it then ends as <see cref="InboundAdmissionStatus.HandshakeFailed"/>).</param>
    /// <exception cref="InvalidOperationException">No leaf is available yet.</exception>
    public async ValueTask<InboundAdmissionResult> AdmitAsync(
        Stream transport, EndPoint? remote, EndPoint? local, InboundAdmissionMode mode, Activity? activity, CancellationToken cancellationToken)
    {
        long id = ConnectionIds.Next();
        var tls = new SslStream(transport, leaveInnerStreamOpen: false);
        long started = Stopwatch.GetTimestamp();
        ServerHandshakeResult handshake;
        try
        {
            handshake = await _tls.HandshakeAsServerAsync(tls, PeerAuthorizer.AnyValid, _handshakeTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await tls.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        SvidValidationResult check = handshake.Validation;
        if (handshake.Error is { } error)
        {
            _metrics?.Handshake(TlsMetrics.Server, succeeded: false, started);
            // The rule the caller's certificate broke when one was judged; else why the handshake itself failed.
            bool refused = handshake.CertificateJudged && !check.IsValid;
            string reason = refused
                ? check.ToString()
                : error is OperationCanceledException ? $"no handshake within {_handshakeTimeout.TotalSeconds:0.#} s" : error.Message;
            InboundConnectionLog.HandshakeRefused(_logger, id, remote, reason);
            TlsActivity.HandshakeFailed(activity, error, check, reason);
            InboundAdmissionStatus status = refused
                ? InboundAdmissionStatus.Unauthenticated
                : InboundAdmissionStatus.HandshakeFailed;
            return new InboundAdmissionResult(status, id, tls, check, default, reason, error);
        }

        _metrics?.Handshake(TlsMetrics.Server, succeeded: true, started);
        SpiffeId peer = check.PeerId;
        TlsActivity.Handshaken(activity, tls, peer);
        if (mode == InboundAdmissionMode.AuthenticateOnly)
        {
            return new InboundAdmissionResult(InboundAdmissionStatus.Authenticated, id, tls, check, default, null, null);
        }

        bool isService = ServiceIdentity.TryFromSpiffeId(peer, out ServiceIdentity source);
        IntentionDecision decision = isService ? _intentions.Authorize(source.Service, _destination) : default;
        if (mode == InboundAdmissionMode.HttpConnection && decision.Reason == IntentionDecisionReason.MatchedL7IntentionOnConnection)
        {
            // An intention with HTTP permissions lets the connection in; each request is decided (and traced) on its own.
            return new InboundAdmissionResult(InboundAdmissionStatus.AdmittedForL7, id, tls, check, decision, decision.ToString(), null);
        }

        TlsActivity.Authorized(activity, source, decision);
        if (!decision.IsAllowed)
        {
            string reason = isService ? decision.ToString() : "DENY: the peer is not a service identity";
            InboundConnectionLog.Denied(_logger, id, peer, reason, decision.IntentionIdForLog, decision.Precedence, remote, local);
            return new InboundAdmissionResult(InboundAdmissionStatus.Denied, id, tls, check, decision, reason, null);
        }

        return new InboundAdmissionResult(InboundAdmissionStatus.Admitted, id, tls, check, decision, decision.ToString(), null);
    }
}
