using Mesh.Identity;

namespace Mesh.Consul;

/// <summary>
/// A sidecar's configuration from its <c>connect-proxy</c> registration (<c>GET /v1/agent/service/&lt;id&gt;</c>): the destination
/// service, where the local application listens, the public listener's port and the upstreams. Immutable: a change is a new instance.
/// </summary>
public sealed class ConsulProxyConfiguration
{
    /// <summary>The proxy's service ID.</summary>
    public required string ProxyServiceId { get; init; }

    /// <summary>The service the proxy represents: its leaf and its inbound intentions are this service's.</summary>
    public required ServiceName DestinationService { get; init; }

    /// <summary>The ID of the service instance the proxy fronts.</summary>
    public string? DestinationServiceId { get; init; }

    /// <summary>The local application's address (Consul's default <c>127.0.0.1</c>).</summary>
    public required string LocalServiceAddress { get; init; }

    /// <summary>The local application's port.</summary>
    public required int LocalServicePort { get; init; }

    /// <summary>The address registered for the public listener; null when the registration names none (the node's address).</summary>
    public string? Address { get; init; }

    /// <summary>The public listener's port (the proxy service's <c>Port</c>).</summary>
    public required int Port { get; init; }

    /// <summary>The upstreams, in registration order.</summary>
    public required IReadOnlyList<ConsulUpstream> Upstreams { get; init; }

    /// <summary>The proxy's own mesh gateway mode, the default of its upstreams.</summary>
    public ConsulMeshGatewayMode MeshGatewayMode { get; init; }
}
