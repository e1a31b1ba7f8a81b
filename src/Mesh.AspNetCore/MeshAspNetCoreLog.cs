using Mesh.Diagnostics;
using Mesh.Identity;
using Microsoft.Extensions.Logging;

namespace Mesh.AspNetCore;

internal static partial class MeshAspNetCoreLog
{
    [LoggerMessage(EventId = MeshLogEvents.InProcessRequestDenied, Level = LogLevel.Warning,
        Message = "Request {Method} {Target} from {Peer} denied (403): {Decision}; intention ID {IntentionId}, precedence {Precedence}")]
    public static partial void RequestDenied(ILogger logger, string method, string target, SpiffeId peer, string decision, string intentionId, int precedence);
}
