using Mesh.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Mesh.Tls.Rotation;

internal static partial class RotationLog
{
    [LoggerMessage(MeshLogEvents.LeafRenewed, LogLevel.Information, "Renewed the leaf for {SpiffeId}; valid {NotBefore:O} to {NotAfter:O}")]
    public static partial void Renewed(ILogger logger, string spiffeId, DateTimeOffset notBefore, DateTimeOffset notAfter);

    [LoggerMessage(MeshLogEvents.LeafRenewalFailed, LogLevel.Warning, "Leaf renewal failed (attempt {Attempt}); retrying in {Delay}")]
    public static partial void Failed(ILogger logger, Exception exception, int attempt, TimeSpan delay);

    [LoggerMessage(MeshLogEvents.LeafRenewalScheduled, LogLevel.Debug, "Next leaf renewal at {RenewAt:O} ({Reason})")]
    public static partial void Scheduled(ILogger logger, DateTimeOffset renewAt, string reason);
}
