namespace Mesh.Consul.Client;

/// <summary>
/// One agent endpoint a query calls: method, path, query parameters, an optional JSON body, and the ACL permission a 403 means is
/// missing (named in the error so that an operator can fix the policy).
/// </summary>
internal sealed record ConsulRequest(HttpMethod Method, string Path, IReadOnlyList<KeyValuePair<string, string?>> Query, string RequiredPermission, byte[]? Body = null)
{
    public static ConsulRequest Get(string path, string requiredPermission, params KeyValuePair<string, string?>[] query) =>
        new(HttpMethod.Get, path, query, requiredPermission);
}
