using Mesh.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Mesh.Tls.Authority.Api;

internal static partial class CaApiLog
{
    [LoggerMessage(EventId = MeshLogEvents.CaRejected, Level = LogLevel.Warning, Message = "CA API refused a request with {StatusCode} ({Rule}): {Reason}")]
    public static partial void Refused(ILogger logger, int statusCode, CertificateSigningError rule, string reason);

    [LoggerMessage(EventId = MeshLogEvents.CaTokensChanged, Level = LogLevel.Information, Message = "CA token entry {Entry}: {Change}")]
    public static partial void TokenChanged(ILogger logger, string entry, string change);

    [LoggerMessage(EventId = MeshLogEvents.CaAuthorizationsLimited, Level = LogLevel.Warning,
        Message = "CA API: {Client} failed authorization {Burst} times in a row; its signing requests are refused with 429 until the limit recovers")]
    public static partial void AuthorizationsLimited(ILogger logger, string client, int burst);
}
