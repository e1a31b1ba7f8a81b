using System.Net;
using Mesh.Diagnostics;
using Mesh.Identity;
using Microsoft.Extensions.Logging;

namespace Mesh.Tls.InProcess;

internal static partial class InProcessLog
{
    [LoggerMessage(EventId = MeshLogEvents.InProcessReady, Level = LogLevel.Information,
        Message = "In-process mesh service {Service} is ready as {SpiffeId}")]
    public static partial void Ready(ILogger logger, ServiceIdentity service, SpiffeId spiffeId);

    [LoggerMessage(EventId = MeshLogEvents.InProcessAccepted, Level = LogLevel.Debug,
        Message = "Connection {ConnectionId} from {Peer} accepted: {Decision}; {InboundRemote} -> {InboundLocal}")]
    public static partial void Accepted(ILogger logger, long connectionId, SpiffeId peer, string decision, EndPoint? inboundRemote, EndPoint? inboundLocal);

    [LoggerMessage(EventId = MeshLogEvents.InProcessListening, Level = LogLevel.Information,
        Message = "In-process mesh service {Service}: mTLS listener on {EndPoint}")]
    public static partial void Listening(ILogger logger, ServiceIdentity service, EndPoint endPoint);

    [LoggerMessage(EventId = MeshLogEvents.InProcessStopped, Level = LogLevel.Information,
        Message = "In-process mesh service {Service} stopped")]
    public static partial void Stopped(ILogger logger, ServiceIdentity service);
}
