using System.Net;
using Mesh.ControlPlane;
using Mesh.Identity;

namespace Mesh.Sni.Gateway;

/// <summary>
/// Where a filter chain of the gateway sends connections: the mesh gateways of a remote datacenter (a wildcard chain), or the
/// healthy endpoints of a local service or of one of its subsets (an exact chain). Endpoints are read from the catalog at
/// connect time.
/// </summary>
internal sealed class GatewayRoute
{
    private GatewayRoute(string? remoteDatacenter, ServiceName service, string localDatacenter, string? subset)
    {
        RemoteDatacenter = remoteDatacenter;
        Service = service;
        LocalDatacenter = localDatacenter;
        Subset = subset;
    }

    public string? RemoteDatacenter { get; }

    public ServiceName Service { get; }

    public string LocalDatacenter { get; }

    public string? Subset { get; }

    public static GatewayRoute ToDatacenter(string datacenter) => new(datacenter, default, string.Empty, null);

    public static GatewayRoute ToService(ServiceName service, string datacenter, string? subset = null) => new(null, service, datacenter, subset);

    /// <summary>The addresses to try, in catalog order: the WAN addresses of the remote gateways, or the local service's endpoints.</summary>
    public IPEndPoint[] Resolve(IServiceCatalog catalog)
    {
        if (RemoteDatacenter is not null)
        {
            IReadOnlyList<MeshGatewayEndpoint> gateways = catalog.GetMeshGateways(RemoteDatacenter);
            var addresses = new IPEndPoint[gateways.Count];
            for (int i = 0; i < addresses.Length; i++)
            {
                addresses[i] = gateways[i].WanAddress;
            }

            return addresses;
        }

        return ServiceEndpoint.AddressesOf(catalog.GetHealthyEndpoints(Service, LocalDatacenter), Subset);
    }

    public override string ToString() =>
        RemoteDatacenter is not null ? $"mesh gateways of {RemoteDatacenter}"
        : Subset is not null ? $"subset {Subset} of {Service} in {LocalDatacenter}"
        : $"{Service} in {LocalDatacenter}";
}
