namespace Mesh.Tls.Authority.Api;

/// <summary>An answer of the CA role's HTTP API: a status code and a JSON body, for whatever HTTP server carries it.</summary>
/// <param name="StatusCode">The HTTP status code.</param>
/// <param name="Body">The UTF-8 JSON body.</param>
/// <param name="Index">The roots index for <c>X-Consul-Index</c>, where the answer has one.</param>
public readonly record struct CaApiResponse(int StatusCode, ReadOnlyMemory<byte> Body, long Index = 0)
{
    /// <summary>The content type of every body.</summary>
    public const string ContentType = "application/json";
}
