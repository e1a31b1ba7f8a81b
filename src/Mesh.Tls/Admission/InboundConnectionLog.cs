using System.Net;
using Mesh.Diagnostics;
using Mesh.Identity;
using Microsoft.Extensions.Logging;

namespace Mesh.Tls.Admission;

/// <summary>
/// The log lines of an inbound mesh connection that is refused, the same from a sidecar and from an in-process service so an
/// operator reads one format: a handshake refusal naming the broken rule, a denial naming the intention and its precedence.
/// </summary>
internal static partial class InboundConnectionLog
{
    [LoggerMessage(EventId = MeshLogEvents.AuthorizationDenied, Level = LogLevel.Warning,
        Message = "Connection {ConnectionId} from {Peer} denied and reset: {Decision}; intention ID {IntentionId}, precedence {Precedence}; {InboundRemote} -> {InboundLocal}")]
    public static partial void Denied(ILogger logger, long connectionId, SpiffeId peer, string decision, string intentionId, int precedence, EndPoint? inboundRemote, EndPoint? inboundLocal);

    [LoggerMessage(EventId = MeshLogEvents.PeerRejected, Level = LogLevel.Warning,
        Message = "Connection {ConnectionId} from {InboundRemote} refused during the mTLS handshake: {Reason}")]
    public static partial void HandshakeRefused(ILogger logger, long connectionId, EndPoint? inboundRemote, string reason);
}
