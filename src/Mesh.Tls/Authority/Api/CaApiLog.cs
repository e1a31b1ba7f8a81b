using Mesh.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Mesh.Tls.Authority.Api;

internal static partial class CaApiLog
{
    [LoggerMessage(EventId = MeshLogEvents.CaRejected, Level = LogLevel.Warning, Message = "CA API refused a request with {StatusCode}: {Reason}")]
    public static partial void Refused(ILogger logger, int statusCode, string reason);
}
