using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using Mesh.Diagnostics;
using Mesh.Identity;
using Mesh.Intentions;
using Mesh.Tls.Authority;
using Mesh.Tls.Validation;

namespace Mesh.Tls.Diagnostics;

/// <summary>
/// The spans of <see cref="MeshActivitySources.Tls"/>: inbound and outbound mesh connections and CA signings, with attribute
/// names from OpenTelemetry's semantic conventions (<c>network.*</c>, <c>server.*</c>, <c>tls.*</c>, <c>error.type</c>) and
/// <c>mesh.*</c> for mesh facts.
/// </summary>
/// <remarks>
/// Every method takes the span as it was started, null when nobody listens, and returns at once for null: without a listener
/// the connection paths build no tag, read no endpoint and allocate nothing. Tags are set only when the listener asked for
/// all data (<see cref="Activity.IsAllDataRequested"/>).
/// </remarks>
internal static class TlsActivity
{
    internal static readonly ActivitySource Source = new(MeshActivitySources.Tls);

    // OpenTelemetry semantic conventions (network, server, tls and error attributes).
    internal const string NetworkPeerAddress = "network.peer.address";
    internal const string NetworkPeerPort = "network.peer.port";
    internal const string ServerAddress = "server.address";
    internal const string ServerPort = "server.port";
    internal const string TlsServerName = "tls.client.server_name";
    internal const string TlsProtocolName = "tls.protocol.name";
    internal const string TlsProtocolVersion = "tls.protocol.version";
    internal const string ErrorType = "error.type";

    // Mesh facts.
    internal const string SourceService = "mesh.source.service";
    internal const string DestinationService = "mesh.destination.service";
    internal const string PeerSpiffeId = "mesh.peer.spiffe_id";
    internal const string IntentionDecision = "mesh.intention.decision";
    internal const string IntentionId = "mesh.intention.id";
    internal const string IntentionPrecedence = "mesh.intention.precedence";
    internal const string Upstream = "mesh.upstream";
    internal const string CaSpiffeId = "mesh.ca.spiffe_id";

    /// <summary>Starts the span of an accepted connection (the sidecar's public listener), reading its addresses only if sampled.</summary>
    public static Activity? StartInbound(Socket socket, ServiceIdentity destination)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        Activity? activity = Source.StartActivity(MeshActivitySources.InboundConnection, ActivityKind.Server);
        if (activity is { IsAllDataRequested: true })
        {
            try
            {
                SetEndPoints(activity, socket.RemoteEndPoint, socket.LocalEndPoint);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                // The caller left already; the handshake will say so.
            }

            activity.SetTag(DestinationService, destination.Service.ToString());
        }

        return activity;
    }

    /// <summary>Starts the span of an accepted connection whose addresses are known (the in-process listener).</summary>
    public static Activity? StartInbound(EndPoint? remote, EndPoint? local, ServiceIdentity destination)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        Activity? activity = Source.StartActivity(MeshActivitySources.InboundConnection, ActivityKind.Server);
        if (activity is { IsAllDataRequested: true })
        {
            SetEndPoints(activity, remote, local);
            activity.SetTag(DestinationService, destination.Service.ToString());
        }

        return activity;
    }

    /// <summary>Starts the span of an outbound mesh connection (a sidecar's upstream, an in-process dial): <paramref name="label"/> names the upstream as its log lines do.</summary>
    public static Activity? StartOutbound(ServiceIdentity source, string destination, string label)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        Activity? activity = Source.StartActivity(MeshActivitySources.OutboundConnection, ActivityKind.Client);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(SourceService, source.Service.ToString());
            activity.SetTag(DestinationService, destination);
            activity.SetTag(Upstream, label);
        }

        return activity;
    }

    /// <summary>Starts the span of a CA signing.</summary>
    public static Activity? StartSigning() =>
        Source.HasListeners() ? Source.StartActivity(MeshActivitySources.CaSign, ActivityKind.Internal) : null;

    /// <summary>The inbound span this async flow started, if any: a parent span of another source is never tagged.</summary>
    public static Activity? CurrentInbound => Current(MeshActivitySources.InboundConnection);

    /// <summary>The outbound span this async flow started, if any.</summary>
    public static Activity? CurrentOutbound => Current(MeshActivitySources.OutboundConnection);

    /// <summary>The server's handshake completed: the protocol and the caller's validated SPIFFE ID.</summary>
    public static void Handshaken(Activity? activity, SslStream tls, SpiffeId peer)
    {
        if (activity is not { IsAllDataRequested: true })
        {
            return;
        }

        SetProtocol(activity, tls);
        if (peer.IsValid)
        {
            activity.SetTag(PeerSpiffeId, peer.Value);
        }

        activity.AddEvent(new ActivityEvent("mesh.tls.handshake"));
    }

    /// <summary>
    /// The intention decision on an inbound connection: the caller's service, allow or deny, the deciding intention and its
    /// precedence; a denial ends the span as an error (<c>error.type</c> <c>denied</c>).
    /// </summary>
    public static void Authorized(Activity? activity, ServiceIdentity source, IntentionDecision decision)
    {
        if (activity is null)
        {
            return;
        }

        if (activity.IsAllDataRequested)
        {
            if (source.IsValid)
            {
                activity.SetTag(SourceService, source.Service.ToString());
            }

            activity.SetTag(IntentionDecision, decision.IsAllowed ? "allow" : "deny");
            activity.SetTag(IntentionId, decision.IntentionIdForLog);
            activity.SetTag(IntentionPrecedence, decision.Precedence);
            activity.AddEvent(new ActivityEvent("mesh.authorization"));
        }

        if (!decision.IsAllowed)
        {
            Failed(activity, "denied", source.IsValid ? decision.ToString() : "DENY: the peer is not a service identity");
        }
    }

    /// <summary>The handshake of an inbound connection failed: <c>error.type</c> names the broken rule, a timeout or a TLS failure.</summary>
    public static void HandshakeFailed(Activity? activity, Exception exception, SvidValidationResult check, string reason)
    {
        if (activity is null)
        {
            return;
        }

        string type = check.Status is not SvidValidationStatus.Valid && (check.PeerId.IsValid || check.Detail is not null)
            ? TlsMetrics.StatusName(check.Status)
            : exception is OperationCanceledException ? "timeout" : "tls_handshake_failed";
        if (activity.IsAllDataRequested && check.PeerId.IsValid)
        {
            activity.SetTag(PeerSpiffeId, check.PeerId.Value);
        }

        Failed(activity, type, reason);
    }

    /// <summary>The connection failed; <paramref name="errorType"/> is a snake_case constant (<c>connect_failed</c>, <c>local_app_unreachable</c>).</summary>
    public static void Failed(Activity? activity, string errorType, string? description)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetTag(ErrorType, errorType);
        activity.SetStatus(ActivityStatusCode.Error, description);
    }

    /// <summary>A failure named by an enum member, as snake_case (<c>IdentityMismatch</c> becomes <c>identity_mismatch</c>).</summary>
    public static void Failed<TError>(Activity? activity, TError error, string? description)
        where TError : struct, Enum
    {
        if (activity is not null)
        {
            Failed(activity, TlsMetrics.ToSnakeCase(error.ToString()), description);
        }
    }

    /// <summary>An allowed inbound connection is handed to the application (the sidecar's local application, or the caller of accept).</summary>
    public static void HandedOff(Activity? activity, Socket? application)
    {
        if (activity is not { IsAllDataRequested: true })
        {
            return;
        }

        activity.AddEvent(new ActivityEvent("mesh.hand_off", tags: application?.RemoteEndPoint is IPEndPoint app
            ? new ActivityTagsCollection { [ServerAddress] = app.Address.ToString(), [ServerPort] = app.Port }
            : null));
    }

    /// <summary>An outbound connection is established: the server dialled, the SNI sent, the protocol and the server's SPIFFE ID.</summary>
    public static void Connected(Activity? activity, EndPoint? server, string sni, SslStream tls, SpiffeId peer)
    {
        if (activity is not { IsAllDataRequested: true })
        {
            return;
        }

        if (server is IPEndPoint ip)
        {
            activity.SetTag(ServerAddress, ip.Address.ToString());
            activity.SetTag(ServerPort, ip.Port);
            activity.SetTag(NetworkPeerAddress, ip.Address.ToString());
            activity.SetTag(NetworkPeerPort, ip.Port);
        }

        activity.SetTag(TlsServerName, sni);
        SetProtocol(activity, tls);
        if (peer.IsValid)
        {
            activity.SetTag(PeerSpiffeId, peer.Value);
        }
    }

    /// <summary>The CA signed a certificate for <paramref name="id"/>.</summary>
    public static void Signed(Activity? activity, SpiffeId id, DateTimeOffset notAfter)
    {
        if (activity is not { IsAllDataRequested: true })
        {
            return;
        }

        activity.SetTag(CaSpiffeId, id.Value);
        activity.SetTag("mesh.ca.not_after", notAfter.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>The CA refused a request; <c>error.type</c> names the rule (<c>wrong_trust_domain</c>, <c>rate_limited</c>…).</summary>
    public static void SigningRefused(Activity? activity, CertificateSigningError error, string reason) => Failed(activity, error, reason);

    private static Activity? Current(string operationName) =>
        Activity.Current is { } current && ReferenceEquals(current.Source, Source) && string.Equals(current.OperationName, operationName, StringComparison.Ordinal) ? current : null;

    private static void SetEndPoints(Activity activity, EndPoint? remote, EndPoint? local)
    {
        if (remote is IPEndPoint peer)
        {
            activity.SetTag(NetworkPeerAddress, peer.Address.ToString());
            activity.SetTag(NetworkPeerPort, peer.Port);
        }

        if (local is IPEndPoint server)
        {
            activity.SetTag(ServerAddress, server.Address.ToString());
            activity.SetTag(ServerPort, server.Port);
        }
    }

    private static void SetProtocol(Activity activity, SslStream tls)
    {
        activity.SetTag(TlsProtocolName, "tls");
        // Mesh TLS never negotiates below 1.2.
        string? version = tls.SslProtocol switch
        {
            SslProtocols.Tls13 => "1.3",
            SslProtocols.Tls12 => "1.2",
            _ => null,
        };
        if (version is not null)
        {
            activity.SetTag(TlsProtocolVersion, version);
        }
    }
}
