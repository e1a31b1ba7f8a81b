using Mesh.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Mesh.Tls.Authority.Api;

internal static partial class CaClientLog
{
    [LoggerMessage(EventId = MeshLogEvents.TrustBundleUpdated, Level = LogLevel.Information,
        Message = "Trust bundle of {TrustDomain}: {RootCount} roots (index {Index})")]
    public static partial void RootsUpdated(ILogger logger, string trustDomain, int rootCount, long index);

    // One line at Warning: a CA that is briefly down is expected and retried; the exception goes to Debug (RootsFailedDetail).
    [LoggerMessage(EventId = MeshLogEvents.TrustBundleFetchFailed, Level = LogLevel.Warning,
        Message = "Could not read the roots from the CA at {Address}: {Error}; retrying in {Delay}")]
    public static partial void RootsFailed(ILogger logger, Uri address, string error, TimeSpan delay);

    [LoggerMessage(EventId = MeshLogEvents.CaClientFailureDetail, Level = LogLevel.Debug,
        Message = "Reading the roots from the CA at {Address} failed")]
    public static partial void RootsFailedDetail(ILogger logger, Exception exception, Uri address);
}
