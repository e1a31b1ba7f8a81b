using Mesh.Diagnostics;
using Mesh.Identity;
using Microsoft.Extensions.Logging;

namespace Mesh.Intentions;

internal static partial class IntentionLog
{
    [LoggerMessage(EventId = MeshLogEvents.AuthorizationAllowed, Level = LogLevel.Debug,
        Message = "Allowed {Source} => {Destination}: {Decision}")]
    public static partial void Allowed(ILogger logger, ServiceName source, ServiceName destination, IntentionDecision decision);

    [LoggerMessage(EventId = MeshLogEvents.AuthorizationDenied, Level = LogLevel.Information,
        Message = "Denied {Source} => {Destination}: {Decision}")]
    public static partial void Denied(ILogger logger, ServiceName source, ServiceName destination, IntentionDecision decision);
}
