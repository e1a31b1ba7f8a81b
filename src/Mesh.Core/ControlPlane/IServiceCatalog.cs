using Mesh.Identity;
using Microsoft.Extensions.Primitives;

namespace Mesh.ControlPlane;

/// <summary>
/// Where services and mesh gateways are: the healthy endpoints of each service in each datacenter (as Consul's
/// <c>/v1/health/connect/&lt;service&gt;?passing</c> gives them) and the mesh gateways of each datacenter.
/// </summary>
/// <remarks>Lookups read an immutable snapshot and do not block; a change swaps the snapshot and fires the change token.</remarks>
public interface IServiceCatalog
{
    /// <summary>The healthy mesh endpoints (sidecars or in-process services) of a service in a datacenter; empty when there are none.</summary>
    IReadOnlyList<ServiceEndpoint> GetHealthyEndpoints(ServiceName service, string datacenter);

    /// <summary>The mesh gateways of a datacenter; empty when it has none.</summary>
    IReadOnlyList<MeshGatewayEndpoint> GetMeshGateways(string datacenter);

    /// <summary>Every datacenter the catalog knows, with services or gateways.</summary>
    IReadOnlyList<string> GetDatacenters();

    /// <summary>The services that have at least one healthy endpoint in a datacenter (a mesh gateway builds its exact routes from them).</summary>
    IReadOnlyList<ServiceName> GetServices(string datacenter);

    /// <summary>A token that fires when any endpoint or gateway changes.</summary>
    IChangeToken GetChangeToken();
}
