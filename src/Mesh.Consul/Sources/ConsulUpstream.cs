using Mesh.Identity;

namespace Mesh.Consul;

/// <summary>One upstream of a <c>connect-proxy</c> registration, as <c>consul connect proxy -sidecar-for</c> reads it.</summary>
public sealed class ConsulUpstream
{
    /// <summary><c>service</c> (the default) or <c>prepared_query</c>.</summary>
    public required string DestinationType { get; init; }

    /// <summary>The destination service (name, namespace, partition).</summary>
    public required ServiceName Destination { get; init; }

    /// <summary>The destination's datacenter; null for the local one.</summary>
    public string? Datacenter { get; init; }

    /// <summary>The local address the upstream listener binds (Consul's default <c>127.0.0.1</c>).</summary>
    public required string LocalBindAddress { get; init; }

    /// <summary>The local port the upstream listener binds.</summary>
    public required int LocalBindPort { get; init; }

    /// <summary>How the upstream reaches another datacenter.</summary>
    public ConsulMeshGatewayMode MeshGatewayMode { get; init; }

    /// <inheritdoc />
    public override string ToString() => $"{Destination}{(Datacenter is null ? string.Empty : " dc " + Datacenter)} on {LocalBindAddress}:{LocalBindPort}";
}
