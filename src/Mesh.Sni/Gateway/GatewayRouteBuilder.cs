using Mesh.ControlPlane;
using Mesh.Identity;
using Mesh.Naming;
using Mesh.Sni.Routing;

namespace Mesh.Sni.Gateway;

/// <summary>
/// Builds a gateway's filter chains from the catalog, as Consul configures a mesh gateway (consul-semantics §2): a wildcard
/// <c>*.&lt;dc&gt;.internal.&lt;TD&gt;</c> per remote datacenter that has gateways, and the exact SNI of every local service and
/// of each of its subsets (<c>&lt;subset&gt;.&lt;svc&gt;...</c>, for the subsets its endpoints name).
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

        var subsets = new HashSet<string>(StringComparer.Ordinal);
        foreach (ServiceName service in catalog.GetServices(localDatacenter))
        {
            routes.Add(new(ConsulSniName.ForService(service, localDatacenter, trustDomain).ToString(), GatewayRoute.ToService(service, localDatacenter)));

            // The catalog is read again when it changes, so a subset that gains its first endpoint gets its chain then.
            subsets.Clear();
            foreach (ServiceEndpoint endpoint in catalog.GetHealthyEndpoints(service, localDatacenter))
            {
                if (endpoint.Subset is { } subset && ServiceName.IsValidPart(subset) && subsets.Add(subset))
                {
                    routes.Add(new(
                        ConsulSniName.ForService(service, localDatacenter, trustDomain, subset).ToString(),
                        GatewayRoute.ToService(service, localDatacenter, subset)));
                }
            }
        }

        return new SniRouteTable<GatewayRoute>(routes);
    }
}
