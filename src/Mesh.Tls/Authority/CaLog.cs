using Mesh.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Mesh.Tls.Authority;

internal static partial class CaLog
{
    [LoggerMessage(MeshLogEvents.CaSigned, LogLevel.Debug, "Signed a leaf for {SpiffeId}, valid until {NotAfter:O}")]
    public static partial void Signed(ILogger logger, string spiffeId, DateTimeOffset notAfter);

    [LoggerMessage(MeshLogEvents.CaRejected, LogLevel.Warning, "Refused a signing request ({Error}): {Reason}")]
    public static partial void Rejected(ILogger logger, CertificateSigningError error, string reason);

    [LoggerMessage(MeshLogEvents.CaRootRotated, LogLevel.Information, "Rotated the CA root of {TrustDomain}; the new root is cross-signed by the old one until {CrossSignedUntil:O}")]
    public static partial void RootRotated(ILogger logger, string trustDomain, DateTimeOffset crossSignedUntil);
}
