using System.Text.Json.Serialization;

namespace Mesh.Consul.Json;

/// <summary>The <c>Proxy</c> block of a <c>connect-proxy</c> registration.</summary>
internal sealed class ProxyDto
{
    public string? DestinationServiceName { get; set; }

    [JsonPropertyName("DestinationServiceID")]
    public string? DestinationServiceId { get; set; }

    public string? LocalServiceAddress { get; set; }

    public int LocalServicePort { get; set; }

    public List<UpstreamDto?>? Upstreams { get; set; }

    public MeshGatewayDto? MeshGateway { get; set; }
}

/// <summary>One upstream of a proxy registration.</summary>
internal sealed class UpstreamDto
{
    public string? DestinationType { get; set; }

    public string? DestinationNamespace { get; set; }

    public string? DestinationPartition { get; set; }

    public string? DestinationName { get; set; }

    public string? Datacenter { get; set; }

    public string? LocalBindAddress { get; set; }

    public int LocalBindPort { get; set; }

    public MeshGatewayDto? MeshGateway { get; set; }
}

/// <summary>A <c>MeshGateway</c> block: <c>{"Mode": "local" | "remote" | "none" | ""}</c>.</summary>
internal sealed class MeshGatewayDto
{
    public string? Mode { get; set; }
}
