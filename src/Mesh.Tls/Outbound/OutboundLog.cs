using System.Net;
using Mesh.Diagnostics;
using Mesh.Identity;
using Microsoft.Extensions.Logging;

namespace Mesh.Tls.Outbound;

/// <summary>
/// The log lines of an outbound mesh dial, the same event IDs from a sidecar's upstream listener and an in-process dial: a sidecar's
/// lines also name the application's TCP session that the dial serves.
/// </summary>
internal static partial class OutboundLog
{
    [LoggerMessage(EventId = MeshLogEvents.UpstreamConnected, Level = LogLevel.Information,
        Message = "Connection {ConnectionId} upstream {Upstream}: {ClientRemote} -> {ClientLocal} over mTLS {Local} -> {Remote}, SNI {Sni}, server {PeerId}")]
    public static partial void Connected(ILogger logger, long connectionId, string upstream, EndPoint? clientRemote, EndPoint? clientLocal,
        EndPoint? local, EndPoint? remote, string sni, SpiffeId peerId);

    // An in-process service dials for its own code (an HTTP client's pool, a stream): Debug, as a client library logs its connects.
    [LoggerMessage(EventId = MeshLogEvents.UpstreamConnected, Level = LogLevel.Debug,
        Message = "Connection {ConnectionId} upstream {Upstream}: mTLS {Local} -> {Remote}, SNI {Sni}, server {PeerId}")]
    public static partial void Dialed(ILogger logger, long connectionId, string upstream, EndPoint? local, EndPoint? remote, string sni, SpiffeId peerId);

    [LoggerMessage(EventId = MeshLogEvents.UpstreamConnectFailed, Level = LogLevel.Warning,
        Message = "Connection {ConnectionId} upstream {Upstream} from {ClientRemote} failed ({Status}): {Reason}")]
    public static partial void Failed(ILogger logger, long connectionId, string upstream, EndPoint? clientRemote, MeshDialStatus status, string reason);

    [LoggerMessage(EventId = MeshLogEvents.UpstreamConnectFailed, Level = LogLevel.Warning,
        Message = "Connection {ConnectionId} upstream {Upstream} failed ({Status}): {Reason}")]
    public static partial void DialFailed(ILogger logger, long connectionId, string upstream, MeshDialStatus status, string reason);

    [LoggerMessage(EventId = MeshLogEvents.UpstreamEndpointFailed, Level = LogLevel.Warning,
        Message = "Connection {ConnectionId} upstream {Upstream}: endpoint {Endpoint} failed ({Error}); trying the next one")]
    public static partial void EndpointFailed(ILogger logger, long connectionId, string upstream, IPEndPoint endpoint, string error);
}
