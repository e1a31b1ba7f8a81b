namespace Mesh.Consul;

/// <summary>How an upstream reaches another datacenter (Consul's <c>MeshGateway.Mode</c>).</summary>
public enum ConsulMeshGatewayMode
{
    /// <summary>Not set: the proxy's or the global default applies.</summary>
    Default,

    /// <summary>Dial the remote datacenter's endpoints directly.</summary>
    None,

    /// <summary>Through the local datacenter's mesh gateway.</summary>
    Local,

    /// <summary>Directly to the remote datacenter's mesh gateway.</summary>
    Remote,
}
