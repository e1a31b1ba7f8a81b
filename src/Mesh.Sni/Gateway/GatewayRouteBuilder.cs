using Mesh.ControlPlane;
using Mesh.Identity;
using Mesh.Naming;
using Mesh.Sni.Routing;

namespace Mesh.Sni.Gateway;

/// <summary>
/// Builds a gateway's filter chains from the catalog, as Consul configures a mesh gateway (consul-semantics §2): a wildcard
/// <c>*.&lt;dc&gt;.internal.&lt;TD&gt;</c> per remote datacenter that has gateways, and the exact SNI of every local service.
/// </summary>
internal static class GatewayRouteBuilder
{
    public static SniRouteTable<GatewayRoute> Build(IServiceCatalog catalog, string localDatacenter, TrustDomain trustDomain)
    {
        var routes = new List<KeyValuePair<string, GatewayRoute>>();
        foreach (string datacenter in catalog.GetDatacenters())
        {
            if (!string.Equals(datacenter, localDatacenter, StringComparison.Ordinal) && catalog.GetMeshGateways(datacenter).Count > 0)
            {
                routes.Add(new(ConsulSniName.ForDatacenter(datacenter, trustDomain).ToGatewayWildcard(), GatewayRoute.ToDatacenter(datacenter)));
            }
        }

        foreach (ServiceName service in catalog.GetServices(localDatacenter))
        {
            routes.Add(new(ConsulSniName.ForService(service, localDatacenter, trustDomain).ToString(), GatewayRoute.ToService(service, localDatacenter)));
        }

        return new SniRouteTable<GatewayRoute>(routes);
    }
}
