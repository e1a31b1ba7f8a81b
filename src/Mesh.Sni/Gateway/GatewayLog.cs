using System.Net;
using Mesh.Diagnostics;
using Mesh.Sni.ClientHello;
using Microsoft.Extensions.Logging;

namespace Mesh.Sni.Gateway;

internal static partial class GatewayLog
{
    [LoggerMessage(EventId = MeshLogEvents.GatewayRouted, Level = LogLevel.Information,
        Message = "Connection {ConnectionId} SNI {Sni} routed to {Route}: {InboundRemote} -> {InboundLocal} spliced to {OutboundLocal} -> {OutboundRemote}")]
    public static partial void Routed(ILogger logger, long connectionId, string sni, GatewayRoute route,
        EndPoint? inboundRemote, EndPoint? inboundLocal, EndPoint? outboundLocal, EndPoint? outboundRemote);

    [LoggerMessage(EventId = MeshLogEvents.GatewayNoRoute, Level = LogLevel.Warning,
        Message = "Connection {ConnectionId} from {InboundRemote} closed: SNI {Sni} matches no route")]
    public static partial void NoRoute(ILogger logger, long connectionId, EndPoint? inboundRemote, string sni);

    [LoggerMessage(EventId = MeshLogEvents.GatewayNoEndpoint, Level = LogLevel.Warning,
        Message = "Connection {ConnectionId} from {InboundRemote} closed: the route {Route} for SNI {Sni} has no endpoint that accepted a connection")]
    public static partial void NoEndpoint(ILogger logger, long connectionId, EndPoint? inboundRemote, string sni, GatewayRoute route);

    [LoggerMessage(EventId = MeshLogEvents.GatewayInvalidClientHello, Level = LogLevel.Warning,
        Message = "Connection {ConnectionId} from {InboundRemote} closed: {Status} ClientHello ({Reason})")]
    public static partial void InvalidHello(ILogger logger, long connectionId, EndPoint? inboundRemote, ClientHelloParseStatus status, ClientHelloInvalidReason reason);

    [LoggerMessage(EventId = MeshLogEvents.GatewayClientHelloTimeout, Level = LogLevel.Warning,
        Message = "Connection {ConnectionId} from {InboundRemote} closed: no complete ClientHello within {Timeout} ({Received} bytes received)")]
    public static partial void HelloTimeout(ILogger logger, long connectionId, EndPoint? inboundRemote, TimeSpan timeout, int received);

    [LoggerMessage(EventId = MeshLogEvents.GatewayClosedBeforeClientHello, Level = LogLevel.Debug,
        Message = "Connection {ConnectionId} from {InboundRemote} ended before its ClientHello was complete ({Received} bytes received)")]
    public static partial void ClosedBeforeHello(ILogger logger, long connectionId, EndPoint? inboundRemote, int received);

    [LoggerMessage(EventId = MeshLogEvents.GatewayEndpointFailed, Level = LogLevel.Warning,
        Message = "Connection {ConnectionId}: endpoint {Endpoint} failed ({Error}); trying the next one")]
    public static partial void EndpointFailed(ILogger logger, long connectionId, IPEndPoint endpoint, string error);

    [LoggerMessage(EventId = MeshLogEvents.GatewayLimitReached, Level = LogLevel.Warning,
        Message = "Connection from {InboundRemote} refused on {Listener}: {Limit} reached")]
    public static partial void LimitReached(ILogger logger, EndPoint? inboundRemote, EndPoint listener, string limit);

    [LoggerMessage(EventId = MeshLogEvents.ListenerStarted, Level = LogLevel.Information,
        Message = "Mesh gateway for {Datacenter} listening on {EndPoint}")]
    public static partial void Listening(ILogger logger, string datacenter, EndPoint endPoint);

    [LoggerMessage(EventId = MeshLogEvents.GatewayRoutesBuilt, Level = LogLevel.Information,
        Message = "Mesh gateway for {Datacenter} routes {RouteCount} SNI names")]
    public static partial void RoutesBuilt(ILogger logger, string datacenter, int routeCount);

    [LoggerMessage(EventId = MeshLogEvents.GatewayLoopFailed, Level = LogLevel.Error,
        Message = "Mesh gateway for {Datacenter}: the connection loop failed; its connections were reset")]
    public static partial void LoopFailed(ILogger logger, string datacenter, Exception exception);

    [LoggerMessage(EventId = MeshLogEvents.GatewayBatchSchedulingRefused, Level = LogLevel.Information,
        Message = "Mesh gateway for {Datacenter}: the system refused SCHED_BATCH for the connection loop (errno {Errno}); it runs under the normal policy")]
    public static partial void BatchSchedulingRefused(ILogger logger, string datacenter, int errno);

    // The line TcpAcceptLoop writes when it backs off, with the same ID and wording: an operator's filter on it sees both engines.
    [LoggerMessage(EventId = MeshLogEvents.AcceptBackoff, Level = LogLevel.Warning,
        Message = "Out of file descriptors ({Error}) accepting on {Endpoint}; backing off {DelayMs} ms.")]
    public static partial void AcceptBackoff(ILogger logger, System.Net.Sockets.SocketError error, string? endpoint, int delayMs);

    [LoggerMessage(EventId = MeshLogEvents.ListenerDraining, Level = LogLevel.Information,
        Message = "Mesh gateway for {Datacenter} stopped accepting; draining {Active} connections")]
    public static partial void Draining(ILogger logger, string datacenter, int active);
}
