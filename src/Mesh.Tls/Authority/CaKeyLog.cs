using Mesh.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Mesh.Tls.Authority;

internal static partial class CaKeyLog
{
    [LoggerMessage(MeshLogEvents.CaRootCreated, LogLevel.Information, "Created a new CA root for {TrustDomain}; key material kept in {Location}")]
    public static partial void RootCreated(ILogger logger, string trustDomain, string location);

    [LoggerMessage(MeshLogEvents.CaRootLoaded, LogLevel.Information, "Loaded the CA root of {TrustDomain} from {Location}")]
    public static partial void RootLoaded(ILogger logger, string trustDomain, string location);
}
