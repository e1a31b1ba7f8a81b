using System.Net;
using Mesh.Identity;

namespace Mesh.ControlPlane;

/// <summary>
/// One mesh endpoint of a service: the address of its sidecar's public listener (or of an in-process service's mesh listener).
/// </summary>
public sealed class ServiceEndpoint
{
    private static readonly IReadOnlyDictionary<string, string> NoMeta = new Dictionary<string, string>();

    /// <summary>Creates an endpoint.</summary>
    /// <param name="identity">The service and datacenter the endpoint serves.</param>
    /// <param name="address">Where mesh mTLS connections for it are accepted.</param>
    /// <param name="meta">Service metadata, used by subsets to filter endpoints.</param>
    public ServiceEndpoint(ServiceIdentity identity, IPEndPoint address, IReadOnlyDictionary<string, string>? meta = null)
    {
        ArgumentNullException.ThrowIfNull(address);
        Identity = identity;
        Address = address;
        Meta = meta ?? NoMeta;
    }

    /// <summary>The service and datacenter.</summary>
    public ServiceIdentity Identity { get; }

    /// <summary>Where mesh mTLS connections are accepted.</summary>
    public IPEndPoint Address { get; }

    /// <summary>Service metadata (for subsets).</summary>
    public IReadOnlyDictionary<string, string> Meta { get; }

    /// <summary>
    /// The subset the endpoint belongs to: its <c>subset</c> metadata, which stands in for a Consul service-resolver's subset
    /// filter. Null when it names none.
    /// </summary>
    public string? Subset => Meta.TryGetValue(SubsetMetaKey, out string? subset) && subset.Length > 0 ? subset : null;

    /// <summary>The metadata key that names an endpoint's subset.</summary>
    public const string SubsetMetaKey = "subset";

    /// <summary>
    /// The addresses to dial for <paramref name="endpoints"/>, in catalog order; only those whose <see cref="Subset"/> is
    /// <paramref name="subset"/> when one is given.
    /// </summary>
    public static IPEndPoint[] AddressesOf(IReadOnlyList<ServiceEndpoint> endpoints, string? subset)
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

    /// <inheritdoc />
    public override string ToString() => $"{Identity} at {Address}";
}
