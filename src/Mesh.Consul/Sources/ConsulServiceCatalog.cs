using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Mesh.Consul.Client;
using Mesh.Consul.Json;
using Mesh.ControlPlane;
using Mesh.Identity;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace Mesh.Consul;

/// <summary>
/// The catalog from the agent: the healthy mesh endpoints of each watched service and datacenter
/// (<c>GET /v1/health/connect/&lt;service&gt;?passing[&amp;dc=]</c>, blocking), the mesh gateways of each watched datacenter
/// (<c>GET /v1/health/service/&lt;gateway&gt;?passing[&amp;dc=]</c>, <c>Kind: mesh-gateway</c>), and, for a gateway's exact routes,
/// every connect-enabled service of the local datacenter (<c>GET /v1/catalog/services</c>, then each service's connect health).
/// </summary>
/// <remarks>
/// Each watch is its own blocking query; lookups read one immutable snapshot and never call the agent. During an outage every
/// watch keeps its last answer. Needs <c>service:read</c> on the services and <c>node:read</c>.
/// </remarks>
public sealed class ConsulServiceCatalog : IServiceCatalog, IAsyncDisposable
{
    // Consul's own mesh gateways re-read the datacenter list rather than block on it; a joining datacenter waits at most this long.
    private static readonly TimeSpan DefaultDatacenterRefresh = TimeSpan.FromSeconds(30);

    private readonly ConsulAgentClient _client;
    private readonly string _gatewayService;
    private readonly ILogger _logger;
    private readonly InMemoryServiceCatalog _snapshot = new();
    private readonly Lock _lock = new();
    private readonly Dictionary<(ServiceName Service, string? Datacenter), BlockingQuery<EndpointList>> _services = [];
    private readonly Dictionary<string, BlockingQuery<EndpointList>> _gateways = new(StringComparer.Ordinal);
    private readonly HashSet<ServiceName> _localServices = [];
    private readonly HashSet<string> _federatedGateways = new(StringComparer.Ordinal);
    private BlockingQuery<ServiceNameList>? _localCatalog;
    private ConsulDatacenterWatch? _datacenters;
    private bool _disposed;

    /// <summary>Creates a catalog that watches nothing yet.</summary>
    /// <param name="client">The agent client.</param>
    /// <param name="gatewayServiceName">The service name mesh gateways are registered under (<c>consul connect envoy -register -service</c>).</param>
    public ConsulServiceCatalog(ConsulAgentClient client, string gatewayServiceName = "mesh-gateway")
    {
        ArgumentNullException.ThrowIfNull(client);
        _client = client;
        _gatewayService = ServiceName.CheckPart(gatewayServiceName, "gateway service name", nameof(gatewayServiceName));
        _logger = client.LoggerFactory.CreateLogger<ConsulServiceCatalog>();
    }

    /// <summary>Watches the healthy mesh endpoints of a service (an upstream) in a datacenter; null for the agent's own.</summary>
    public void WatchService(ServiceName service, string? datacenter = null)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_services.ContainsKey((service, datacenter)))
            {
                BlockingQuery<EndpointList> query = CreateServiceQuery(service, datacenter);
                _services[(service, datacenter)] = query;
                query.Start();
            }
        }
    }

    /// <summary>Stops watching a service; its endpoints leave the catalog.</summary>
    public async ValueTask UnwatchServiceAsync(ServiceName service, string? datacenter = null)
    {
        BlockingQuery<EndpointList>? query;
        lock (_lock)
        {
            _services.Remove((service, datacenter), out query);
        }

        if (query is not null)
        {
            await query.DisposeAsync().ConfigureAwait(false);
            Rebuild();
        }
    }

    /// <summary>Watches the mesh gateways of a datacenter; null for the agent's own.</summary>
    public void WatchMeshGateways(string? datacenter = null)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            string key = datacenter ?? string.Empty;
            if (!_gateways.ContainsKey(key))
            {
                BlockingQuery<EndpointList> query = CreateGatewayQuery(datacenter);
                _gateways[key] = query;
                query.Start();
            }
        }
    }

    /// <summary>
    /// Follows the WAN federation for a mesh gateway's wildcard routes: reads the datacenters the agent knows
    /// (<c>GET /v1/catalog/datacenters</c>) every <paramref name="refreshInterval"/> and watches the mesh gateways of each one
    /// other than <paramref name="localDatacenter"/>. A datacenter that joins gets its gateways watched without a restart; one that
    /// leaves is dropped with its gateways.
    /// </summary>
    /// <param name="localDatacenter">The agent's own datacenter, whose gateways are not a remote route.</param>
    /// <param name="refreshInterval">
    /// How often the list is read again; 30 s when null. The endpoint cannot block, so a join is seen within one interval.
    /// </param>
    public void WatchFederatedMeshGateways(string localDatacenter, TimeSpan? refreshInterval = null)
    {
        ServiceName.CheckPart(localDatacenter, "datacenter", nameof(localDatacenter));
        TimeSpan interval = refreshInterval ?? DefaultDatacenterRefresh;
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero, nameof(refreshInterval));
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_datacenters is not null)
            {
                return;
            }

            _datacenters = new ConsulDatacenterWatch(_client, interval, names => OnDatacentersChanged(localDatacenter, names), _logger);
            _datacenters.Start();
        }
    }

    /// <summary>
    /// Watches every service of the agent's datacenter and the connect endpoints of each, so that <see cref="GetServices"/> lists
    /// the local services a mesh gateway routes to exactly. Services come and go with the catalog.
    /// </summary>
    public void WatchLocalServices()
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_localCatalog is not null)
            {
                return;
            }

            _localCatalog = new BlockingQuery<ServiceNameList>(
                _client,
                "catalog services",
                "catalog",
                ConsulRequest.Get("/v1/catalog/services", "service:read on the services (service_prefix \"\" { policy = \"read\" })", ConsistencyParameter()),
                hashBlocking: false,
                static (response, _) => ValueTask.FromResult(ParseServiceNames(response)),
                static (a, b) => a.Fingerprint == b.Fingerprint,
                OnLocalServicesChanged,
                _logger);
            _localCatalog.Start();
        }
    }

    /// <summary>Completes when every service and gateway watch has its first answer; fails with the 403 that stopped one.</summary>
    public async Task WaitForFirstAnswersAsync(CancellationToken cancellationToken)
    {
        Task? datacenters;
        lock (_lock)
        {
            datacenters = _datacenters?.FirstValue;
        }

        if (datacenters is not null)
        {
            // The datacenters first: their answer adds the gateway watches waited for below.
            await datacenters.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        Task[] first;
        lock (_lock)
        {
            first = [.. _services.Values.Select(static q => (Task)q.FirstValue), .. _gateways.Values.Select(static q => (Task)q.FirstValue)];
        }

        await Task.WhenAll(first).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The permanent errors (403s naming the missing permission) of the watches that stopped.</summary>
    public IReadOnlyList<Exception> Faults
    {
        get
        {
            lock (_lock)
            {
                return [.. _services.Values.Select(static q => q.Fault).Concat(_gateways.Values.Select(static q => q.Fault)).Append(_localCatalog?.Fault).Append(_datacenters?.Fault).OfType<Exception>()];
            }
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<ServiceEndpoint> GetHealthyEndpoints(ServiceName service, string datacenter) => _snapshot.GetHealthyEndpoints(service, datacenter);

    /// <inheritdoc />
    public IReadOnlyList<MeshGatewayEndpoint> GetMeshGateways(string datacenter) => _snapshot.GetMeshGateways(datacenter);

    /// <inheritdoc />
    public IReadOnlyList<string> GetDatacenters() => _snapshot.GetDatacenters();

    /// <inheritdoc />
    public IReadOnlyList<ServiceName> GetServices(string datacenter) => _snapshot.GetServices(datacenter);

    /// <inheritdoc />
    public IChangeToken GetChangeToken() => _snapshot.GetChangeToken();

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        List<BlockingQuery<EndpointList>> queries;
        BlockingQuery<ServiceNameList>? local;
        ConsulDatacenterWatch? datacenters;
        lock (_lock)
        {
            _disposed = true;
            datacenters = _datacenters;
            queries = [.. _services.Values, .. _gateways.Values];
            _services.Clear();
            _gateways.Clear();
            local = _localCatalog;
        }

        if (datacenters is not null)
        {
            await datacenters.DisposeAsync().ConfigureAwait(false);
        }

        if (local is not null)
        {
            await local.DisposeAsync().ConfigureAwait(false);
        }

        foreach (BlockingQuery<EndpointList> query in queries)
        {
            await query.DisposeAsync().ConfigureAwait(false);
        }
    }

    private KeyValuePair<string, string?> ConsistencyParameter() =>
        // The agent cache keeps answering from its last result while the servers are away; stale lets any server answer.
        _client.Options.UseAgentCache ? new("cached", null) : new("stale", null);

    private BlockingQuery<EndpointList> CreateServiceQuery(ServiceName service, string? datacenter)
    {
        var query = new List<KeyValuePair<string, string?>> { new("passing", null), ConsistencyParameter() };
        AddTenancy(query, service, datacenter);
        string name = datacenter is null ? $"health {service.Name}" : $"health {service.Name} dc {datacenter}";
        return new BlockingQuery<EndpointList>(
            _client,
            name,
            "health",
            new ConsulRequest(HttpMethod.Get, "/v1/health/connect/" + Uri.EscapeDataString(service.Name), query, $"service:read on \"{service.Name}\" and node:read"),
            hashBlocking: false,
            (response, _) => ValueTask.FromResult(ParseEndpoints(response, datacenter, name)),
            static (a, b) => a.Fingerprint == b.Fingerprint,
            _ => Rebuild(),
            _logger);
    }

    private BlockingQuery<EndpointList> CreateGatewayQuery(string? datacenter)
    {
        var query = new List<KeyValuePair<string, string?>> { new("passing", null), ConsistencyParameter() };
        if (datacenter is not null)
        {
            query.Add(new("dc", datacenter));
        }

        string name = datacenter is null ? "mesh gateways" : $"mesh gateways dc {datacenter}";
        return new BlockingQuery<EndpointList>(
            _client,
            name,
            "gateways",
            new ConsulRequest(HttpMethod.Get, "/v1/health/service/" + Uri.EscapeDataString(_gatewayService), query, $"service:read on \"{_gatewayService}\" and node:read"),
            hashBlocking: false,
            (response, _) => ValueTask.FromResult(ParseGateways(response, datacenter, name)),
            static (a, b) => a.Fingerprint == b.Fingerprint,
            _ => Rebuild(),
            _logger);
    }

    private static void AddTenancy(List<KeyValuePair<string, string?>> query, ServiceName service, string? datacenter)
    {
        if (datacenter is not null)
        {
            query.Add(new("dc", datacenter));
        }

        // Community Edition knows only "default"; sending it would be refused by nothing but is noise.
        if (service.Namespace != ServiceName.Default)
        {
            query.Add(new("ns", service.Namespace));
        }

        if (!service.IsDefaultPartition)
        {
            query.Add(new("partition", service.Partition));
        }
    }

    private void OnLocalServicesChanged(ServiceNameList names) =>
        Follow(new HashSet<ServiceName>(names.Names.Select(static n => new ServiceName(n))), _localServices, _services, static service => (service, null), service => CreateServiceQuery(service, null));

    private void OnDatacentersChanged(string localDatacenter, IReadOnlyList<string> datacenters) =>
        Follow(new HashSet<string>(datacenters.Where(d => d != localDatacenter), StringComparer.Ordinal), _federatedGateways, _gateways, static datacenter => datacenter, datacenter => CreateGatewayQuery(datacenter));

    // Brings the queries a list-driven watch (the local services, the federation's datacenters) holds in line with its latest list:
    // an entry that left loses its query, one that joined gets one. An entry watched explicitly (WatchService, WatchMeshGateways)
    // stays the caller's: the list neither takes it over nor drops it.
    private void Follow<TEntry, TKey>(
        HashSet<TEntry> wanted,
        HashSet<TEntry> followed,
        Dictionary<TKey, BlockingQuery<EndpointList>> queries,
        Func<TEntry, TKey> keyOf,
        Func<TEntry, BlockingQuery<EndpointList>> create)
        where TKey : notnull
    {
        var removed = new List<BlockingQuery<EndpointList>>();
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            foreach (TEntry gone in followed.Where(e => !wanted.Contains(e)).ToList())
            {
                followed.Remove(gone);
                if (queries.Remove(keyOf(gone), out BlockingQuery<EndpointList>? query))
                {
                    removed.Add(query);
                }
            }

            foreach (TEntry joined in wanted)
            {
                TKey key = keyOf(joined);
                if (!queries.ContainsKey(key) && followed.Add(joined))
                {
                    BlockingQuery<EndpointList> query = create(joined);
                    queries[key] = query;
                    query.Start();
                }
            }
        }

        DisposeLater(removed);
    }

    private void DisposeLater(List<BlockingQuery<EndpointList>> removed)
    {
        if (removed.Count > 0)
        {
            Rebuild();
            _ = Task.Run(async () =>
            {
                foreach (BlockingQuery<EndpointList> query in removed)
                {
                    await query.DisposeAsync().ConfigureAwait(false);
                }
            });
        }
    }

    private void Rebuild()
    {
        List<ServiceEndpoint> endpoints = [];
        List<MeshGatewayEndpoint> gateways = [];
        lock (_lock)
        {
            foreach (BlockingQuery<EndpointList> query in _services.Values)
            {
                endpoints.AddRange(query.Current?.Endpoints ?? []);
            }

            foreach (BlockingQuery<EndpointList> query in _gateways.Values)
            {
                gateways.AddRange(query.Current?.Gateways ?? []);
            }

            // Replace under the lock so that two rebuilds cannot publish out of order.
            _snapshot.Replace(endpoints, gateways);
        }
    }

    private EndpointList ParseEndpoints(ConsulResponse response, string? datacenter, string queryName)
    {
        var endpoints = new List<ServiceEndpoint>();
        foreach ((HealthEntryDto entry, HealthServiceDto service) in PassingEntries(response))
        {
            // A sidecar serves its destination's identity; a Connect-native service its own (Consul: ServiceURI of the leaf).
            string? name = service.Kind == "connect-proxy" ? service.Proxy?.DestinationServiceName : service.Service;
            string? dc = entry.Node?.Datacenter ?? service.Datacenter ?? datacenter;
            string? address = string.IsNullOrEmpty(service.Address) ? entry.Node?.Address : service.Address;
            if (!ServiceName.IsValidPart(name) || !ServiceName.IsValidPart(dc) || !IPAddress.TryParse(address, out IPAddress? ip) || service.Port is <= 0 or > 65535)
            {
                ConsulLog.EntrySkipped(_logger, queryName, service.Id, entry.Node?.Name, $"needs a destination name, a datacenter, an IP address and a port (got '{name}', '{dc}', '{address}', {service.Port})");
                continue;
            }

            var identity = new ServiceIdentity(new ServiceName(name!, NullIfEmpty(service.Namespace), NullIfEmpty(service.Partition)), dc!);
            endpoints.Add(new ServiceEndpoint(identity, new IPEndPoint(ip, service.Port), service.Meta));
        }

        return new EndpointList(endpoints, [], Fingerprint(endpoints.Select(static e => $"{e.Identity}|{e.Address}|{string.Join(',', e.Meta.OrderBy(static m => m.Key, StringComparer.Ordinal))}")));
    }

    private EndpointList ParseGateways(ConsulResponse response, string? datacenter, string queryName)
    {
        var gateways = new List<MeshGatewayEndpoint>();
        foreach ((HealthEntryDto entry, HealthServiceDto service) in PassingEntries(response))
        {
            if (service.Kind != "mesh-gateway")
            {
                continue;
            }

            string? dc = entry.Node?.Datacenter ?? service.Datacenter ?? datacenter;
            string? defaultAddress = string.IsNullOrEmpty(service.Address) ? entry.Node?.Address : service.Address;
            IPEndPoint? lan = TaggedAddress(service, "lan", defaultAddress);
            IPEndPoint? wan = TaggedAddress(service, "wan", defaultAddress) ?? lan;
            if (!ServiceName.IsValidPart(dc) || lan is null || wan is null)
            {
                ConsulLog.EntrySkipped(_logger, queryName, service.Id, entry.Node?.Name, "a mesh gateway needs a datacenter and LAN and WAN IP addresses with ports");
                continue;
            }

            gateways.Add(new MeshGatewayEndpoint(dc!, lan, wan, NullIfEmpty(service.Partition)));
        }

        return new EndpointList([], gateways, Fingerprint(gateways.Select(static g => $"{g.Datacenter}|{g.Partition}|{g.LanAddress}|{g.WanAddress}")));
    }

    // A mesh gateway registers its addresses as service tagged addresses {"lan": {Address, Port}, "wan": {...}}; without them the
    // service address and port stand for both.
    private static IPEndPoint? TaggedAddress(HealthServiceDto service, string tag, string? defaultAddress)
    {
        if (service.TaggedAddresses?.TryGetValue(tag, out ServiceAddressDto? tagged) == true && tagged is not null)
        {
            return IPAddress.TryParse(tagged.Address, out IPAddress? ip) && tagged.Port is > 0 and <= 65535 ? new IPEndPoint(ip, tagged.Port) : null;
        }

        return tag == "lan" && IPAddress.TryParse(defaultAddress, out IPAddress? fallback) && service.Port is > 0 and <= 65535 ? new IPEndPoint(fallback, service.Port) : null;
    }

    // The entries of a health answer whose checks all pass. ?passing already filters on the agent; a direct check keeps a cached
    // or replayed answer honest.
    private static List<(HealthEntryDto Entry, HealthServiceDto Service)> PassingEntries(ConsulResponse response)
    {
        List<HealthEntryDto?> entries = JsonSerializer.Deserialize(response.Body, ConsulJsonContext.Default.ListHealthEntryDto)
            ?? throw new FormatException("The health answer is null.");
        var passing = new List<(HealthEntryDto, HealthServiceDto)>(entries.Count);
        foreach (HealthEntryDto? entry in entries)
        {
            HealthServiceDto service = entry?.Service ?? throw new FormatException("A health entry has no Service.");
            if (entry.Checks is null || entry.Checks.All(static c => c is null || c.Status is null or "passing"))
            {
                passing.Add((entry, service));
            }
        }

        return passing;
    }

    private static ServiceNameList ParseServiceNames(ConsulResponse response)
    {
        Dictionary<string, List<string>?> services = JsonSerializer.Deserialize(response.Body, ConsulJsonContext.Default.DictionaryStringListString)
            ?? throw new FormatException("The catalog services answer is null.");
        string[] names = [.. services.Keys.Where(ServiceName.IsValidPart).Order(StringComparer.Ordinal)];
        return new ServiceNameList(names, string.Join('\n', names));
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static string Fingerprint(IEnumerable<string> lines) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', lines.Order(StringComparer.Ordinal)))));

    internal sealed record EndpointList(IReadOnlyList<ServiceEndpoint> Endpoints, IReadOnlyList<MeshGatewayEndpoint> Gateways, string Fingerprint);

    internal sealed record ServiceNameList(IReadOnlyList<string> Names, string Fingerprint);
}
