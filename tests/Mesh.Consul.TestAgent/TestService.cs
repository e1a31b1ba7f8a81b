namespace Mesh.Consul.TestAgent;

/// <summary>A service instance in the test agent's catalog, with the fields of Consul's registration that Mesh reads.</summary>
public sealed record TestService(string Id, string Name, int Port)
{
    /// <summary><c>""</c> (a typical or Connect-native service), <c>connect-proxy</c> or <c>mesh-gateway</c>.</summary>
    public string Kind { get; init; } = string.Empty;

    /// <summary>The service address; empty means the node's address.</summary>
    public string Address { get; init; } = "127.0.0.1";

    /// <summary>The node name.</summary>
    public string Node { get; init; } = "node-1";

    /// <summary>The node address.</summary>
    public string NodeAddress { get; init; } = "127.0.0.1";

    /// <summary>The datacenter; null for the agent's own.</summary>
    public string? Datacenter { get; init; }

    /// <summary>The namespace (Enterprise); "default" in Community Edition.</summary>
    public string Namespace { get; init; } = "default";

    /// <summary>Whether every health check passes.</summary>
    public bool Passing { get; init; } = true;

    /// <summary>A Connect-native service.</summary>
    public bool ConnectNative { get; init; }

    /// <summary>Service metadata.</summary>
    public IReadOnlyDictionary<string, string>? Meta { get; init; }

    /// <summary>The proxy block of a connect-proxy.</summary>
    public TestProxy? Proxy { get; init; }

    /// <summary>The <c>lan</c> tagged address of a mesh gateway.</summary>
    public TestAddress? Lan { get; init; }

    /// <summary>The <c>wan</c> tagged address of a mesh gateway.</summary>
    public TestAddress? Wan { get; init; }

    /// <summary>Registered with this agent (visible in <c>/v1/agent/service</c>), not only in the catalog.</summary>
    public bool Local { get; init; } = true;
}

/// <summary>A tagged address.</summary>
public sealed record TestAddress(string Address, int Port);

/// <summary>The proxy block of a connect-proxy registration.</summary>
public sealed record TestProxy(string DestinationServiceName, int LocalServicePort)
{
    /// <summary>The ID of the instance the proxy fronts.</summary>
    public string? DestinationServiceId { get; init; }

    /// <summary>The local application's address.</summary>
    public string LocalServiceAddress { get; init; } = "127.0.0.1";

    /// <summary>The upstreams.</summary>
    public IReadOnlyList<TestUpstream> Upstreams { get; init; } = [];

    /// <summary>The proxy's mesh gateway mode ("" for the default).</summary>
    public string MeshGatewayMode { get; init; } = string.Empty;
}

/// <summary>An upstream of a proxy registration.</summary>
public sealed record TestUpstream(string DestinationName, int LocalBindPort)
{
    /// <summary><c>service</c> or <c>prepared_query</c>.</summary>
    public string DestinationType { get; init; } = "service";

    /// <summary>The destination namespace; empty for the default.</summary>
    public string DestinationNamespace { get; init; } = string.Empty;

    /// <summary>The datacenter; empty for the local one.</summary>
    public string Datacenter { get; init; } = string.Empty;

    /// <summary>The local bind address; empty for Consul's default.</summary>
    public string LocalBindAddress { get; init; } = string.Empty;

    /// <summary>The mesh gateway mode ("" for the default).</summary>
    public string MeshGatewayMode { get; init; } = string.Empty;
}
