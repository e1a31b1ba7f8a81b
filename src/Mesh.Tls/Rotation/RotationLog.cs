using Mesh.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Mesh.Tls.Rotation;

internal static partial class RotationLog
{
    [LoggerMessage(MeshLogEvents.LeafRenewed, LogLevel.Information, "Renewed the leaf for {SpiffeId}; valid {NotBefore:O} to {NotAfter:O}")]
    public static partial void Renewed(ILogger logger, string spiffeId, DateTimeOffset notBefore, DateTimeOffset notAfter);

    // One line at Warning: an outage of the CA is expected and retried, a stack trace per attempt would bury the log.
    [LoggerMessage(MeshLogEvents.LeafRenewalFailed, LogLevel.Warning, "Leaf renewal failed (attempt {Attempt}): {Error}; retrying in {Delay}")]
    public static partial void Failed(ILogger logger, int attempt, string error, TimeSpan delay);

    [LoggerMessage(MeshLogEvents.LeafRenewalFailureDetail, LogLevel.Debug, "Leaf renewal attempt {Attempt} failed")]
    public static partial void FailedDetail(ILogger logger, Exception exception, int attempt);

    [LoggerMessage(MeshLogEvents.LeafRenewalRefused, LogLevel.Error, "The CA refused the leaf ({Rule}): {Error}; not retrying sooner than {Delay}")]
    public static partial void Refused(ILogger logger, string rule, string error, TimeSpan delay);

    [LoggerMessage(MeshLogEvents.LeafRenewalScheduled, LogLevel.Debug, "Next leaf renewal at {RenewAt:O} ({Reason})")]
    public static partial void Scheduled(ILogger logger, DateTimeOffset renewAt, string reason);
}
