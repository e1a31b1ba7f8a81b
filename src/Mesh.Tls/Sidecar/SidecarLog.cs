using System.Net;
using Mesh.Diagnostics;
using Mesh.Identity;
using Mesh.Intentions;
using Mesh.Tls.Outbound;
using Microsoft.Extensions.Logging;

namespace Mesh.Tls.Sidecar;

internal static partial class SidecarLog
{
    [LoggerMessage(EventId = MeshLogEvents.ListenerStarted, Level = LogLevel.Information, Message = "Sidecar of {Service}: public listener on {EndPoint}")]
    public static partial void Listening(ILogger logger, ServiceIdentity service, EndPoint endPoint);

    [LoggerMessage(EventId = MeshLogEvents.UpstreamListenerStarted, Level = LogLevel.Information, Message = "Sidecar of {Service}: upstream {Upstream} on {EndPoint}")]
    public static partial void ListeningUpstream(ILogger logger, ServiceIdentity service, string upstream, EndPoint endPoint);

    [LoggerMessage(EventId = MeshLogEvents.UpstreamListenerFailed, Level = LogLevel.Error,
        Message = "Sidecar of {Service}: upstream {Upstream} cannot listen ({Error}); the other upstreams are unaffected")]
    public static partial void UpstreamListenerFailed(ILogger logger, ServiceIdentity service, MeshUpstream upstream, string error);

    [LoggerMessage(EventId = MeshLogEvents.ListenerDraining, Level = LogLevel.Information,
        Message = "Sidecar of {Service}: upstream {Upstream} removed; it stopped accepting and is draining {Active} connections")]
    public static partial void UpstreamRemoved(ILogger logger, ServiceIdentity service, MeshUpstream upstream, int active);

    [LoggerMessage(EventId = MeshLogEvents.AuthorizationAllowed, Level = LogLevel.Information,
        Message = "Connection {ConnectionId} from {Peer} allowed: {Decision}; intention ID {IntentionId}, precedence {Precedence}; {InboundRemote} -> {InboundLocal}")]
    public static partial void Allowed(ILogger logger, long connectionId, SpiffeId peer, IntentionDecision decision, string intentionId, int precedence, EndPoint? inboundRemote, EndPoint? inboundLocal);

    [LoggerMessage(EventId = MeshLogEvents.LocalAppConnected, Level = LogLevel.Information,
        Message = "Connection {ConnectionId} to the local application: {Local} -> {Remote}")]
    public static partial void LocalAppConnected(ILogger logger, long connectionId, EndPoint? local, EndPoint? remote);

    [LoggerMessage(EventId = MeshLogEvents.LocalAppUnreachable, Level = LogLevel.Error,
        Message = "Connection {ConnectionId} reset: the local application at {Application} is unreachable ({Error})")]
    public static partial void LocalAppUnreachable(ILogger logger, long connectionId, IPEndPoint application, string error);

    [LoggerMessage(EventId = MeshLogEvents.LocalAppHealthChanged, Level = LogLevel.Warning,
        Message = "Sidecar of {Service}: the local application at {Application} fails its check ({Error}); refusing inbound connections until it passes")]
    public static partial void LocalAppUnhealthy(ILogger logger, ServiceIdentity service, IPEndPoint application, string error);

    [LoggerMessage(EventId = MeshLogEvents.LocalAppHealthChanged, Level = LogLevel.Information,
        Message = "Sidecar of {Service}: the local application at {Application} passes its check; accepting inbound connections")]
    public static partial void LocalAppHealthy(ILogger logger, ServiceIdentity service, IPEndPoint application);

    [LoggerMessage(EventId = MeshLogEvents.LocalAppUnreachable, Level = LogLevel.Warning,
        Message = "Sidecar of {Service}: acting on the check of the local application at {Application} failed ({Error}); retrying at the next check")]
    public static partial void LocalAppCheckFailed(ILogger logger, ServiceIdentity service, IPEndPoint application, string error);

    [LoggerMessage(EventId = MeshLogEvents.ListenerDraining, Level = LogLevel.Information,
        Message = "Sidecar of {Service} stopped accepting; draining {Active} connections")]
    public static partial void Draining(ILogger logger, ServiceIdentity service, int active);
}
