using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using Mesh.Configuration;
using Mesh.ControlPlane;
using Mesh.Endpoints;
using Mesh.Splicing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Mesh.Sni.Gateway;

/// <summary>
/// A mesh gateway (consul-semantics §2): reads only the unencrypted ClientHello of each connection, picks a filter chain by
/// its SNI (a wildcard per remote datacenter, exact names for local services), connects to the chain's next hop, replays every
/// byte it has read and splices. It holds no certificate and no key, so it cannot decrypt what it forwards.
/// </summary>
/// <remarks>
/// Routes are rebuilt from the <see cref="IServiceCatalog"/> whenever it changes; the table is immutable and swapped
/// atomically, so routing never locks. On Linux every connection of the gateway runs on one thread of its own that waits in
/// <c>epoll_wait</c> (a gateway connection is a dozen short steps, and plain system calls cost a fraction of what the socket
/// engine adds to each); elsewhere, or with a <see cref="SpliceOptions.TimeProvider"/> other than the system's, the gateway
/// runs on <see cref="Socket"/> and <see cref="TcpSplicer"/>. Connections refused for no route, a malformed or non-TLS hello,
/// or a timeout are closed and the reason logged.
/// </remarks>
public sealed class MeshGateway : IAsyncDisposable
{
    // How the pieces fit: this class holds the options, the metrics and the lifecycle; GatewayRouter owns route policy;
    // GatewayEngines chooses the engine (GatewayEventLoop or SocketGatewayEngine) that does the I/O on the listeners.
    private readonly MeshGatewayOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly IMeterFactory? _meterFactory;
    private readonly ILogger _logger;
    private readonly GatewayMetrics _metrics;
    private readonly GatewayRouter _router;
    private readonly GatewayLimits _limits;
    private GatewayListener[] _listeners = [];
    private IGatewayEngine? _engine;

    /// <summary>Creates a gateway; <see cref="StartAsync"/> starts it.</summary>
    /// <exception cref="OptionsValidationException">An option is invalid; each message names it.</exception>
    public MeshGateway(MeshGatewayOptions options, IServiceCatalog catalog, ILoggerFactory? loggerFactory = null, IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(catalog);
        options.ThrowIfInvalid(MeshGatewayOptionsValidator.Instance);
        _options = options;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _meterFactory = meterFactory;
        _logger = _loggerFactory.CreateLogger<MeshGateway>();
        _metrics = new GatewayMetrics(meterFactory);
        var outliers = new EndpointOutlierDetector("gateway", options.OutlierDetection, options.Splice.TimeProvider, _loggerFactory.CreateLogger<EndpointOutlierDetector>(), meterFactory);
        _router = new GatewayRouter(options, catalog, _logger, _metrics, outliers);
        _limits = new GatewayLimits(options, _logger, _metrics);
    }

    /// <summary>The addresses the gateway accepts on, with the ports picked for port 0; empty before <see cref="StartAsync"/>.</summary>
    public IReadOnlyList<IPEndPoint> LocalEndPoints => Array.ConvertAll(_listeners, listener => listener.LocalEndPoint);

    /// <summary>The connections the gateway holds now.</summary>
    public int ActiveConnections => _engine?.Active ?? 0;

    /// <summary>Builds the routes, binds every listen address and starts accepting.</summary>
    /// <exception cref="SocketException">An address cannot be bound.</exception>
    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        _router.Start();
        GatewayListener[] listeners = GatewayListener.BindAll(_options.ListenEndPoints);
        IGatewayEngine engine;
        try
        {
            engine = GatewayEngines.Create(_options, listeners, _router, _limits, _metrics, _loggerFactory, _meterFactory);
        }
        catch
        {
            GatewayListener.CloseAll(listeners);
            throw;
        }

        _listeners = listeners;
        _engine = engine;
        foreach (GatewayListener listener in listeners)
        {
            GatewayLog.Listening(_logger, _options.Datacenter, listener.LocalEndPoint);
        }

        engine.Start();
        return Task.CompletedTask;
    }

    /// <summary>
    /// Stops accepting, then waits for open connections to end until <paramref name="cancellationToken"/> fires; connections
    /// still open then are reset.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        _router.Dispose();
        GatewayLog.Draining(_logger, _options.Datacenter, ActiveConnections);
        if (_engine is { } engine)
        {
            await engine.DrainAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Stops at once: open connections are reset.</summary>
    public async ValueTask DisposeAsync()
    {
        _router.Dispose();
        if (_engine is { } engine)
        {
            await engine.AbortAsync().ConfigureAwait(false);
            engine.Dispose();
        }

        _metrics.Dispose();
    }
}
