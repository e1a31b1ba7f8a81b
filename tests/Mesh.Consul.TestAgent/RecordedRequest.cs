namespace Mesh.Consul.TestAgent;

/// <summary>A request the test agent received: method, path with query string, and the <c>X-Consul-Token</c> header.</summary>
public sealed record RecordedRequest(string Method, string PathAndQuery, string? Token);
