using Mesh.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Mesh.Tls.Validation;

internal static partial class ValidationLog
{
    [LoggerMessage(MeshLogEvents.PeerRejected, LogLevel.Debug, "Refused a peer certificate ({Status}): {Detail}")]
    public static partial void Rejected(ILogger logger, SvidValidationStatus status, string? detail);
}
