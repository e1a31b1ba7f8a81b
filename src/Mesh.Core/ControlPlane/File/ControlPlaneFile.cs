using Mesh.Identity;
using Mesh.Intentions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Primitives;

namespace Mesh.ControlPlane.File;

/// <summary>
/// The control plane described by a JSON file: the service catalog (healthy endpoints and mesh gateways) and the current
/// <see cref="ControlPlaneConfiguration"/>. The file is polled for changes; a valid change is swapped in without touching open
/// connections, an invalid one is logged and the previous configuration stays in force.
/// </summary>
/// <remarks>
/// Polling rather than a file-system watcher: inotify instances are scarce (128 per user here), editors replace files in ways
/// watchers miss, and a one-second poll of a file's timestamp and size costs nothing measurable.
/// </remarks>
public sealed partial class ControlPlaneFile : IServiceCatalog, IIntentionSource, IDisposable
{
    private readonly string _path;
    private readonly ILogger _logger;
    private readonly InMemoryServiceCatalog _catalog = new();
    private readonly ChangeNotifier _configurationChanged = new();
    private readonly ITimer? _timer;
    private readonly long _maxFileBytes;
    private ControlPlaneConfiguration _configuration;
    private (DateTime WriteTime, long Length) _stamp;
    private int _polling;

    private ControlPlaneFile(string path, long maxFileBytes, ControlPlaneConfiguration configuration, TimeSpan pollInterval, TimeProvider timeProvider, ILogger logger)
    {
        _path = path;
        _maxFileBytes = maxFileBytes;
        _logger = logger;
        _configuration = configuration;
        _stamp = Stamp(path);
        Publish(configuration);
        if (pollInterval > TimeSpan.Zero)
        {
            _timer = timeProvider.CreateTimer(static state => ((ControlPlaneFile)state!).Poll(), this, pollInterval, pollInterval);
        }
    }

    /// <summary>Reads and validates the file, then keeps watching it.</summary>
    /// <param name="path">The control-plane file.</param>
    /// <param name="pollInterval">How often to look for changes; zero or negative to never reload.</param>
    /// <param name="timeProvider">The clock for polling; the system clock when null.</param>
    /// <param name="logger">Receives reload and error events.</param>
    /// <exception cref="ControlPlaneFileException">The file is missing or invalid; the message names the field and the rule.</exception>
    public static ControlPlaneFile Open(string path, TimeSpan pollInterval, TimeProvider? timeProvider = null, ILogger? logger = null) =>
        Open(path, pollInterval, ControlPlaneConfiguration.DefaultMaxFileBytes, timeProvider ?? TimeProvider.System, logger ?? NullLogger.Instance);

    /// <summary>Reads and validates the file, then keeps watching it; a file larger than <paramref name="maxFileBytes"/> is refused unread.</summary>
    /// <param name="path">The control-plane file.</param>
    /// <param name="pollInterval">How often to look for changes; zero or negative to never reload.</param>
    /// <param name="maxFileBytes">The largest file accepted, at start and on every reload (<see cref="ControlPlaneConfiguration.DefaultMaxFileBytes"/> by default).</param>
    /// <param name="timeProvider">The clock for polling.</param>
    /// <param name="logger">Receives reload and error events.</param>
    /// <exception cref="ControlPlaneFileException">The file is missing, too large or invalid; the message names the field and the rule.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxFileBytes"/> is zero or negative.</exception>
    public static ControlPlaneFile Open(string path, TimeSpan pollInterval, long maxFileBytes, TimeProvider timeProvider, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxFileBytes);
        string fullPath;
        try
        {
            fullPath = Path.GetFullPath(path);
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or IOException)
        {
            throw new ControlPlaneFileException(ErrorQuote.ClipRuns(path), "(file)", $"is not a usable path: {ErrorQuote.ClipRuns(ex.Message)}", ex);
        }

        ControlPlaneConfiguration configuration = ControlPlaneConfiguration.Load(fullPath, maxFileBytes);
        var file = new ControlPlaneFile(fullPath, maxFileBytes, configuration, pollInterval, timeProvider, logger);
        Log.Loaded(file._logger, fullPath, configuration.Services.Count, configuration.MeshGateways.Count);
        Log.IntentionsLoaded(file._logger, configuration.Intentions.Count, configuration.Intentions.DefaultAction);
        return file;
    }

    /// <summary>The configuration in force.</summary>
    public ControlPlaneConfiguration Configuration => Volatile.Read(ref _configuration);

    /// <summary>A token that fires when a new configuration is swapped in.</summary>
    public IChangeToken GetConfigurationChangeToken() => _configurationChanged.GetChangeToken();

    /// <summary>The intentions in force.</summary>
    IntentionSet IIntentionSource.Current => Configuration.Intentions;

    /// <summary>A token that fires when a new configuration, and so possibly new intentions, is swapped in.</summary>
    IChangeToken IIntentionSource.GetChangeToken() => _configurationChanged.GetChangeToken();

    /// <inheritdoc />
    public IReadOnlyList<ServiceEndpoint> GetHealthyEndpoints(ServiceName service, string datacenter) => _catalog.GetHealthyEndpoints(service, datacenter);

    /// <inheritdoc />
    public IReadOnlyList<MeshGatewayEndpoint> GetMeshGateways(string datacenter) => _catalog.GetMeshGateways(datacenter);

    /// <inheritdoc />
    public IReadOnlyList<string> GetDatacenters() => _catalog.GetDatacenters();

    /// <inheritdoc />
    public IReadOnlyList<ServiceName> GetServices(string datacenter) => _catalog.GetServices(datacenter);

    /// <inheritdoc />
    public IChangeToken GetChangeToken() => _catalog.GetChangeToken();

    /// <summary>Reads the file again now if it changed; returns whether a new configuration was swapped in.</summary>
    public bool ReloadIfChanged()
    {
        (DateTime, long) stamp = Stamp(_path);
        if (stamp == _stamp)
        {
            return false;
        }

        _stamp = stamp;
        ControlPlaneConfiguration next;
        try
        {
            next = ControlPlaneConfiguration.Load(_path, _maxFileBytes);
        }
        catch (ControlPlaneFileException ex)
        {
            Log.Invalid(_logger, _path, ex.Message);
            return false;
        }

        Volatile.Write(ref _configuration, next);
        Publish(next);
        _configurationChanged.NotifyChanged();
        Log.Loaded(_logger, _path, next.Services.Count, next.MeshGateways.Count);
        Log.IntentionsLoaded(_logger, next.Intentions.Count, next.Intentions.DefaultAction);
        return true;
    }

    /// <summary>Stops watching the file.</summary>
    public void Dispose() => _timer?.Dispose();

    private void Poll()
    {
        // Timer callbacks can overlap when a read is slow; one poll at a time.
        if (Interlocked.Exchange(ref _polling, 1) == 1)
        {
            return;
        }

        try
        {
            ReloadIfChanged();
        }
        catch (Exception ex)
        {
            // An exception escaping a timer callback ends the process, and with it every connection: whatever went wrong, the
            // configuration in force stays and the next poll tries again.
            Log.ReloadFailed(_logger, _path, ex);
        }
        finally
        {
            Volatile.Write(ref _polling, 0);
        }
    }

    private void Publish(ControlPlaneConfiguration configuration)
    {
        var endpoints = new List<ServiceEndpoint>(configuration.Services.Count);
        foreach (ServiceDefinition service in configuration.Services)
        {
            if (service.IsHealthy)
            {
                endpoints.Add(new ServiceEndpoint(service.Identity, service.MeshAddress, service.Meta));
            }
        }

        _catalog.Replace(endpoints, configuration.MeshGateways);
    }

    private static (DateTime, long) Stamp(string path)
    {
        var info = new FileInfo(path);
        return info.Exists ? (info.LastWriteTimeUtc, info.Length) : (DateTime.MinValue, -1);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = Diagnostics.MeshLogEvents.ControlPlaneLoaded, Level = LogLevel.Information,
            Message = "Loaded control-plane file {Path}: {ServiceCount} service instances, {GatewayCount} mesh gateways")]
        public static partial void Loaded(ILogger logger, string path, int serviceCount, int gatewayCount);

        [LoggerMessage(EventId = Diagnostics.MeshLogEvents.ControlPlaneInvalid, Level = LogLevel.Error,
            Message = "Ignoring the changed control-plane file {Path}; the previous configuration stays in force: {Problem}")]
        public static partial void Invalid(ILogger logger, string path, string problem);

        [LoggerMessage(EventId = Diagnostics.MeshLogEvents.ControlPlaneReloadFailed, Level = LogLevel.Error,
            Message = "Reading the control-plane file {Path} failed; the previous configuration stays in force and the next poll tries again")]
        public static partial void ReloadFailed(ILogger logger, string path, Exception exception);

        [LoggerMessage(EventId = Diagnostics.MeshLogEvents.IntentionsLoaded, Level = LogLevel.Information,
            Message = "Intentions in force: {Count}, default policy {DefaultAction}")]
        public static partial void IntentionsLoaded(ILogger logger, int count, IntentionAction defaultAction);
    }
}
