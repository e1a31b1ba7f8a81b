using System.Text.Json.Serialization;

namespace Mesh.Consul.Json;

/// <summary><c>GET /v1/agent/service/&lt;id&gt;</c> and the values of <c>GET /v1/agent/services</c>.</summary>
internal sealed class AgentServiceDto
{
    public string? Kind { get; set; }

    [JsonPropertyName("ID")]
    public string? Id { get; set; }

    public string? Service { get; set; }

    public string? Address { get; set; }

    public int Port { get; set; }

    public ProxyDto? Proxy { get; set; }

    public string? Namespace { get; set; }

    public string? Partition { get; set; }

    public string? Datacenter { get; set; }

    public string? ContentHash { get; set; }

    public Dictionary<string, ServiceAddressDto?>? TaggedAddresses { get; set; }
}
