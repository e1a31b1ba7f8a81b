using System.Net;
using Mesh.ControlPlane;
using Mesh.Identity;

namespace Mesh.Sni.Gateway;

/// <summary>
/// Where a filter chain of the gateway sends connections: the mesh gateways of a remote datacenter (a wildcard chain), or the
/// healthy endpoints of a local service (an exact chain). Endpoints are read from the catalog at connect time.
/// </summary>
internal sealed class GatewayRoute
{
    private GatewayRoute(string? remoteDatacenter, ServiceName service, string localDatacenter)
    {
        RemoteDatacenter = remoteDatacenter;
        Service = service;
        LocalDatacenter = localDatacenter;
    }

    public string? RemoteDatacenter { get; }

    public ServiceName Service { get; }

    public string LocalDatacenter { get; }

    public static GatewayRoute ToDatacenter(string datacenter) => new(datacenter, default, string.Empty);

    public static GatewayRoute ToService(ServiceName service, string datacenter) => new(null, service, datacenter);

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

        IReadOnlyList<ServiceEndpoint> endpoints = catalog.GetHealthyEndpoints(Service, LocalDatacenter);
        var result = new IPEndPoint[endpoints.Count];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = endpoints[i].Address;
        }

        return result;
    }

    public override string ToString() => RemoteDatacenter is not null ? $"mesh gateways of {RemoteDatacenter}" : $"{Service} in {LocalDatacenter}";
}
