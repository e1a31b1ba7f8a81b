using System.Net;

namespace Mesh.ControlPlane;

/// <summary>The addresses to dial for a service's endpoints, or for one subset of them, in catalog order.</summary>
public static class EndpointAddresses
{
    /// <summary>The addresses of <paramref name="endpoints"/>; only those whose <see cref="ServiceEndpoint.Subset"/> is <paramref name="subset"/> when one is given.</summary>
    public static IPEndPoint[] Of(IReadOnlyList<ServiceEndpoint> endpoints, string? subset)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        if (subset is null)
        {
            var all = new IPEndPoint[endpoints.Count];
            for (int i = 0; i < all.Length; i++)
            {
                all[i] = endpoints[i].Address;
            }

            return all;
        }

        var inSubset = new List<IPEndPoint>(endpoints.Count);
        foreach (ServiceEndpoint endpoint in endpoints)
        {
            if (string.Equals(endpoint.Subset, subset, StringComparison.Ordinal))
            {
                inSubset.Add(endpoint.Address);
            }
        }

        return [.. inSubset];
    }
}
