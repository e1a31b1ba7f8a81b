using System.Collections.Frozen;
using Mesh.Identity;
using Microsoft.Extensions.Primitives;

namespace Mesh.ControlPlane;

/// <summary>
/// A service catalog whose contents are set by code: for tests, and as the snapshot store behind file- or Consul-backed catalogs.
/// </summary>
/// <remarks>Readers see one immutable snapshot; <see cref="Replace"/> swaps it atomically and fires the change token.</remarks>
public sealed class InMemoryServiceCatalog : IServiceCatalog
{
    private readonly ChangeNotifier _notifier = new();
    private Snapshot _snapshot = Snapshot.Empty;

    /// <summary>Creates a catalog with the given endpoints and gateways.</summary>
    public InMemoryServiceCatalog(IEnumerable<ServiceEndpoint>? endpoints = null, IEnumerable<MeshGatewayEndpoint>? gateways = null)
    {
        if (endpoints is not null || gateways is not null)
        {
            Replace(endpoints ?? [], gateways ?? []);
        }
    }

    /// <summary>Replaces every endpoint and gateway with a new set.</summary>
    public void Replace(IEnumerable<ServiceEndpoint> endpoints, IEnumerable<MeshGatewayEndpoint> gateways)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(gateways);

        var byService = new Dictionary<(ServiceName, string), List<ServiceEndpoint>>();
        foreach (ServiceEndpoint endpoint in endpoints)
        {
            var key = (endpoint.Identity.Service, endpoint.Identity.Datacenter);
            if (!byService.TryGetValue(key, out List<ServiceEndpoint>? list))
            {
                byService[key] = list = [];
            }

            list.Add(endpoint);
        }

        var byDatacenter = new Dictionary<string, List<MeshGatewayEndpoint>>(StringComparer.Ordinal);
        foreach (MeshGatewayEndpoint gateway in gateways)
        {
            if (!byDatacenter.TryGetValue(gateway.Datacenter, out List<MeshGatewayEndpoint>? list))
            {
                byDatacenter[gateway.Datacenter] = list = [];
            }

            list.Add(gateway);
        }

        var servicesByDatacenter = new Dictionary<string, List<ServiceName>>(StringComparer.Ordinal);
        foreach ((ServiceName service, string datacenter) in byService.Keys)
        {
            if (!servicesByDatacenter.TryGetValue(datacenter, out List<ServiceName>? list))
            {
                servicesByDatacenter[datacenter] = list = [];
            }

            list.Add(service);
        }

        var datacenters = new SortedSet<string>(servicesByDatacenter.Keys, StringComparer.Ordinal);
        datacenters.UnionWith(byDatacenter.Keys);

        Volatile.Write(ref _snapshot, new Snapshot(
            byService.ToFrozenDictionary(static p => p.Key, static p => (IReadOnlyList<ServiceEndpoint>)p.Value.ToArray()),
            byDatacenter.ToFrozenDictionary(static p => p.Key, static p => (IReadOnlyList<MeshGatewayEndpoint>)p.Value.ToArray(), StringComparer.Ordinal),
            servicesByDatacenter.ToFrozenDictionary(static p => p.Key, static p => (IReadOnlyList<ServiceName>)p.Value.ToArray(), StringComparer.Ordinal),
            [.. datacenters]));
        _notifier.NotifyChanged();
    }

    /// <inheritdoc />
    public IReadOnlyList<ServiceEndpoint> GetHealthyEndpoints(ServiceName service, string datacenter) =>
        Volatile.Read(ref _snapshot).Endpoints.TryGetValue((service, datacenter), out IReadOnlyList<ServiceEndpoint>? found) ? found : [];

    /// <inheritdoc />
    public IReadOnlyList<MeshGatewayEndpoint> GetMeshGateways(string datacenter) =>
        Volatile.Read(ref _snapshot).Gateways.TryGetValue(datacenter, out IReadOnlyList<MeshGatewayEndpoint>? found) ? found : [];

    /// <inheritdoc />
    public IReadOnlyList<string> GetDatacenters() => Volatile.Read(ref _snapshot).Datacenters;

    /// <inheritdoc />
    public IReadOnlyList<ServiceName> GetServices(string datacenter) =>
        Volatile.Read(ref _snapshot).Services.TryGetValue(datacenter, out IReadOnlyList<ServiceName>? found) ? found : [];

    /// <inheritdoc />
    public IChangeToken GetChangeToken() => _notifier.GetChangeToken();

    private sealed record Snapshot(
        FrozenDictionary<(ServiceName, string), IReadOnlyList<ServiceEndpoint>> Endpoints,
        FrozenDictionary<string, IReadOnlyList<MeshGatewayEndpoint>> Gateways,
        FrozenDictionary<string, IReadOnlyList<ServiceName>> Services,
        IReadOnlyList<string> Datacenters)
    {
        public static readonly Snapshot Empty = new(
            FrozenDictionary<(ServiceName, string), IReadOnlyList<ServiceEndpoint>>.Empty,
            FrozenDictionary<string, IReadOnlyList<MeshGatewayEndpoint>>.Empty,
            FrozenDictionary<string, IReadOnlyList<ServiceName>>.Empty,
            []);
    }
}
