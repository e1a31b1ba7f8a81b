using System.Net;
using Microsoft.Extensions.Logging;

namespace Mesh.Sni.Gateway;

/// <summary>
/// The gateway's admission limits, checked on accept by both engines: <see cref="MeshGatewayOptions.MaxConnections"/> and
/// <see cref="MeshGatewayOptions.MaxConcurrentClientHelloReads"/> per listener (Envoy's per-listener connection limit and its
/// bound on connections in the listener filters). A connection over either is reset at once, logged and counted as "limit".
/// </summary>
internal sealed class GatewayLimits(MeshGatewayOptions options, ILogger logger, GatewayMetrics metrics)
{
    /// <summary>
    /// The limit a new connection would exceed, given what its listener holds without it; null when it is admitted.
    /// </summary>
    /// <param name="connections">Connections the listener holds, not counting the new one.</param>
    /// <param name="readingHello">Of those, the ones still sending their ClientHello.</param>
    public string? Exceeded(int connections, int readingHello) =>
        connections >= options.MaxConnections ? nameof(MeshGatewayOptions.MaxConnections)
        : readingHello >= options.MaxConcurrentClientHelloReads ? nameof(MeshGatewayOptions.MaxConcurrentClientHelloReads)
        : null;

    /// <summary>Logs and counts a connection refused for <paramref name="limit"/>; the caller resets it.</summary>
    public void Refused(EndPoint? remote, GatewayListener listener, string limit)
    {
        GatewayLog.LimitReached(logger, remote, listener.LocalEndPoint, limit);
        metrics.Count("limit");
    }
}
