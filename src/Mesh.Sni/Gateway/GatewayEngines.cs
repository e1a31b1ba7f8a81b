using System.Runtime.Versioning;
using Mesh.Sni.Interop.Linux;
using Mesh.Splicing;
using Microsoft.Extensions.Logging;

namespace Mesh.Sni.Gateway;

/// <summary>
/// Chooses and builds the engine that runs a gateway's connections: the one place that rule lives.
/// </summary>
/// <remarks>
/// The event loop (<see cref="EventLoopGatewayEngine"/>) runs when the system is Linux and <see cref="MeshGatewayOptions.Splice"/>'s
/// <see cref="SpliceOptions.TimeProvider"/> is <see cref="TimeProvider.System"/>: its deadlines read the system clock
/// (<see cref="Environment.TickCount64"/>) between two <c>epoll_wait</c> calls and cannot follow another clock. Otherwise — other
/// systems, or a clock of the caller's (a test's fake time) — the socket engine (<see cref="SocketGatewayEngine"/>) runs, whose
/// timeouts and splices all go through the given <see cref="TimeProvider"/>.
/// </remarks>
internal static class GatewayEngines
{
    /// <summary>Whether <paramref name="options"/> run the gateway on its event loop rather than on the socket engine.</summary>
    [SupportedOSPlatformGuard("linux")]
    public static bool UsesEventLoop(MeshGatewayOptions options) =>
        OperatingSystem.IsLinux() && LinuxSockets.Available && options.Splice.TimeProvider == TimeProvider.System;

    /// <summary>The engine for <paramref name="options"/>, over listeners already bound; it owns them from then on.</summary>
    public static IGatewayEngine Create(
        MeshGatewayOptions options, GatewayListener[] listeners, GatewayRouter router, GatewayLimits limits, GatewayMetrics metrics,
        ILoggerFactory loggerFactory, System.Diagnostics.Metrics.IMeterFactory? meterFactory)
    {
        ILogger logger = loggerFactory.CreateLogger<MeshGateway>();

        // Splices are logged under the splicer's category on both engines, so that one log filter covers every splice of the mesh.
        ILogger<TcpSplicer> spliceLogger = loggerFactory.CreateLogger<TcpSplicer>();
        if (!UsesEventLoop(options))
        {
            return new SocketGatewayEngine(options, listeners, router, limits, metrics, logger, new TcpSplicer(spliceLogger, meterFactory));
        }

        return new EventLoopGatewayEngine(new GatewayEventLoop(options, listeners, router, limits, metrics, logger, new SpliceTelemetry(spliceLogger, meterFactory)), listeners);
    }
}
