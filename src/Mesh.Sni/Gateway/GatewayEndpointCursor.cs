using System.Diagnostics.CodeAnalysis;
using System.Net;
using Mesh.Endpoints;

namespace Mesh.Sni.Gateway;

/// <summary>
/// The endpoints one connection tries, in turn, on either engine: round robin from where the route's rotation puts it, each
/// endpoint once, skipping those outlier detection ejected unless all are (then all are tried: ejection never leaves a route
/// with nothing, as in Envoy). A value type, kept in the connection's state: no allocation, closure or delegate per connection.
/// </summary>
internal struct GatewayEndpointCursor
{
    private readonly IPEndPoint[] _endpoints;
    private readonly int _start;
    private readonly EndpointOutlierDetector? _skipEjectedBy;
    private int _tried;

    public GatewayEndpointCursor(IPEndPoint[] endpoints, int start, EndpointOutlierDetector? skipEjectedBy)
    {
        _endpoints = endpoints;
        _start = start;
        _skipEjectedBy = skipEjectedBy;
    }

    /// <summary>The next endpoint to try; false once every endpoint has been tried (or skipped).</summary>
    public bool TryNext([NotNullWhen(true)] out IPEndPoint? endpoint)
    {
        IPEndPoint[]? endpoints = _endpoints;
        while (endpoints is not null && _tried < endpoints.Length)
        {
            IPEndPoint candidate = endpoints[(_start + _tried++) % endpoints.Length];
            if (_skipEjectedBy is { } outliers && outliers.IsEjected(candidate))
            {
                continue;
            }

            endpoint = candidate;
            return true;
        }

        endpoint = null;
        return false;
    }
}
