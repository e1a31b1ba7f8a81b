using System.Net;
using Mesh.ControlPlane;
using Mesh.Endpoints;
using Mesh.Sni.ClientHello;
using Mesh.Sni.Diagnostics;
using Mesh.Sni.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace Mesh.Sni.Gateway;

/// <summary>
/// The gateway's route policy, shared by both engines: the route table built from the catalog (rebuilt when it changes,
/// swapped atomically so routing never locks), the route of a ClientHello's SNI, the refusal of a hello it will not route,
/// and the endpoints a routed connection tries (round robin, outlier detection) with what each attempt says about them.
/// Every decision is logged, counted and traced here; the engines only do the I/O.
/// </summary>
internal sealed class GatewayRouter : IDisposable
{
    private readonly MeshGatewayOptions _options;
    private readonly IServiceCatalog _catalog;
    private readonly ILogger _logger;
    private readonly GatewayMetrics _metrics;
    private readonly EndpointOutlierDetector _outliers;
    private readonly Lock _publishLock = new();
    private long _buildsStarted;
    private long _publishedTicket;
    private SniRouteTable<GatewayRoute> _routes = new([]);
    private IDisposable? _catalogSubscription;

    public GatewayRouter(MeshGatewayOptions options, IServiceCatalog catalog, ILogger logger, GatewayMetrics metrics, EndpointOutlierDetector outliers)
    {
        _options = options;
        _catalog = catalog;
        _logger = logger;
        _metrics = metrics;
        _outliers = outliers;
    }

    /// <summary>Builds the routes and rebuilds them whenever the catalog changes.</summary>
    public void Start()
    {
        // Subscribe first, build second: the token is taken before the catalog is read, so a change that lands during the first
        // build fires it and is built in. Built the other way round, that change would be lost until the catalog changed again.
        _catalogSubscription = ChangeToken.OnChange(_catalog.GetChangeToken, RebuildRoutes);
        RebuildRoutes();
    }

    /// <summary>Stops following the catalog; the routes built last stay in use.</summary>
    public void Dispose() => _catalogSubscription?.Dispose();

    /// <summary>
    /// Parses what has been received of a ClientHello and, once it is complete, finds the route of its SNI. Synchronous: the
    /// parse result is a ref struct over the buffer and cannot live across an await.
    /// </summary>
    public ClientHelloParseStatus Inspect(ReadOnlySpan<byte> received, out GatewayRoute? route, out string? sni, out ClientHelloInvalidReason reason)
    {
        route = null;
        sni = null;
        ClientHelloParseStatus status = ClientHelloParser.Parse(received, out ClientHelloInfo hello, _options.MaxClientHelloSize);
        reason = hello.InvalidReason;
        if (status == ClientHelloParseStatus.Complete && hello.HasServerName)
        {
            sni = hello.GetServerNameString();
            Volatile.Read(ref _routes).Lookup(hello.ServerName, out route);
        }

        return status;
    }

    /// <summary>Records (as a span) that a connection's SNI chose <paramref name="route"/>.</summary>
    public void Chosen(long id, EndPoint? remote, string? sni, GatewayRoute route) =>
        GatewayActivity.Routed(id, remote, sni, route, _options.Datacenter);

    /// <summary>Logs, counts and traces a hello the gateway will not route: complete but matching no route, not TLS, invalid or too large.</summary>
    public void RefuseHello(long id, EndPoint? remote, ClientHelloParseStatus status, ClientHelloInvalidReason reason, string? sni)
    {
        if (status == ClientHelloParseStatus.Complete)
        {
            GatewayLog.NoRoute(_logger, id, remote, sni ?? "(none)");
            _metrics.Count("no_route");
            GatewayActivity.Refused(id, remote, sni, _options.Datacenter, "no_route");
            return;
        }

        GatewayLog.InvalidHello(_logger, id, remote, status, reason);
        string result = status == ClientHelloParseStatus.NotTls ? "not_tls" : status == ClientHelloParseStatus.TooLarge ? "too_large" : "invalid";
        _metrics.Count(result);
        GatewayActivity.Refused(id, remote, sni, _options.Datacenter, result);
    }

    /// <summary>
    /// Makes room for more of a hello whose buffer is full, as its record headers ask; false (refused as too large) once the
    /// buffer is at its bound.
    /// </summary>
    public bool TryGrowHello(ref byte[] buffer, long id, EndPoint? remote)
    {
        if (GatewayHelloBuffer.TryGrow(ref buffer, _options.MaxClientHelloSize))
        {
            return true;
        }

        RefuseHello(id, remote, ClientHelloParseStatus.TooLarge, ClientHelloInvalidReason.None, null);
        return false;
    }

    /// <summary>The client closed before its ClientHello was complete.</summary>
    public void ClosedBeforeHello(long id, EndPoint? remote, int received)
    {
        GatewayLog.ClosedBeforeHello(_logger, id, remote, received);
        _metrics.Count("closed_early");
    }

    /// <summary>The client did not send a complete ClientHello within <see cref="MeshGatewayOptions.ClientHelloTimeout"/>.</summary>
    public void HelloTimedOut(long id, EndPoint? remote, int received)
    {
        GatewayLog.HelloTimeout(_logger, id, remote, _options.ClientHelloTimeout, received);
        _metrics.Count("timeout");
    }

    /// <summary>The endpoints a connection of <paramref name="route"/> tries, in turn: its healthy endpoints now, from the catalog.</summary>
    public GatewayEndpointCursor Endpoints(GatewayRoute route)
    {
        IPEndPoint[] endpoints = route.Resolve(_catalog);
        int start = endpoints.Length == 0 ? 0 : _outliers.NextStart(endpoints.Length);
        return new GatewayEndpointCursor(endpoints, start, _outliers.HasAvailable(endpoints) ? _outliers : null);
    }

    /// <summary>A connect failed: logged; a failure of the endpoint (not of this host) counts towards its ejection.</summary>
    public void EndpointFailed(long id, IPEndPoint endpoint, string error, bool endpointAtFault = true)
    {
        GatewayLog.EndpointFailed(_logger, id, endpoint, error);
        if (endpointAtFault)
        {
            _outliers.ReportFailure(endpoint);
        }
    }

    /// <summary>An endpoint accepted a connection: its run of failures ends.</summary>
    public void EndpointConnected(IPEndPoint endpoint) => _outliers.ReportSuccess(endpoint);

    /// <summary>No endpoint of the route accepted the connection; the caller closes it.</summary>
    public void NoEndpoint(long id, EndPoint? remote, string sni, GatewayRoute route)
    {
        GatewayLog.NoEndpoint(_logger, id, remote, sni, route);
        _metrics.Count("connect_failed");
    }

    /// <summary>Whether <see cref="Routed"/> writes its line: the local addresses it names cost a system call each on the event loop.</summary>
    public bool LogsRouted => _logger.IsEnabled(LogLevel.Information);

    /// <summary>A connection reached an endpoint of its route and is about to be spliced.</summary>
    public void Routed(long id, string sni, GatewayRoute route, EndPoint? inboundRemote, EndPoint? inboundLocal, EndPoint? outboundLocal, EndPoint? outboundRemote)
    {
        GatewayLog.Routed(_logger, id, sni, route, inboundRemote, inboundLocal, outboundLocal, outboundRemote);
        _metrics.Count("routed");
    }

    private void RebuildRoutes()
    {
        // Builds may overlap (a change fires while one runs, on this thread or another): each takes a ticket before it reads the
        // catalog and publishes only if no build that started after it has published, so the routes read last are the ones kept.
        long ticket = Interlocked.Increment(ref _buildsStarted);
        SniRouteTable<GatewayRoute> routes = GatewayRouteBuilder.Build(_catalog, _options.Datacenter, _options.TrustDomain);
        lock (_publishLock)
        {
            if (ticket < _publishedTicket)
            {
                return;
            }

            _publishedTicket = ticket;
            Volatile.Write(ref _routes, routes);
        }

        GatewayLog.RoutesBuilt(_logger, _options.Datacenter, routes.Count);
    }
}
