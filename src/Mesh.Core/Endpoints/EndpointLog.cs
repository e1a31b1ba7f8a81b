using System.Net;
using Mesh.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Mesh.Endpoints;

internal static partial class EndpointLog
{
    [LoggerMessage(EventId = MeshLogEvents.EndpointEjected, Level = LogLevel.Warning,
        Message = "Endpoint {Endpoint} ejected for {Seconds:0.#} s after {Failures} consecutive connect failures (ejection {Ejections}); connections go to the other endpoints")]
    public static partial void Ejected(ILogger logger, EndPoint endpoint, double seconds, int failures, int ejections);

    [LoggerMessage(EventId = MeshLogEvents.EndpointReturned, Level = LogLevel.Information,
        Message = "Endpoint {Endpoint} back in rotation after its ejection; the next connection to it is its probe")]
    public static partial void Returned(ILogger logger, EndPoint endpoint);

    // Debug: every connection meets it while a whole cluster is down, and the failed connects are logged already.
    [LoggerMessage(EventId = MeshLogEvents.EndpointAllEjected, Level = LogLevel.Debug,
        Message = "Every endpoint of {Count} is ejected: trying them all rather than none")]
    public static partial void AllEjected(ILogger logger, int count);
}
