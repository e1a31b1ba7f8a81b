using System.Text.Json.Serialization;

namespace Mesh.Consul.Json;

/// <summary>One entry of <c>/v1/health/connect/&lt;service&gt;</c> or <c>/v1/health/service/&lt;service&gt;</c>.</summary>
internal sealed class HealthEntryDto
{
    public HealthNodeDto? Node { get; set; }

    public HealthServiceDto? Service { get; set; }

    public List<HealthCheckDto?>? Checks { get; set; }
}

/// <summary>The node of a health entry; its <c>TaggedAddresses</c> are plain strings.</summary>
internal sealed class HealthNodeDto
{
    [JsonPropertyName("Node")]
    public string? Name { get; set; }

    public string? Address { get; set; }

    public string? Datacenter { get; set; }

    public Dictionary<string, string>? TaggedAddresses { get; set; }
}

/// <summary>The service of a health entry; its <c>TaggedAddresses</c> are <c>{Address, Port}</c> objects.</summary>
internal sealed class HealthServiceDto
{
    public string? Kind { get; set; }

    [JsonPropertyName("ID")]
    public string? Id { get; set; }

    public string? Service { get; set; }

    public string? Address { get; set; }

    public int Port { get; set; }

    public Dictionary<string, string>? Meta { get; set; }

    public Dictionary<string, ServiceAddressDto?>? TaggedAddresses { get; set; }

    public ProxyDto? Proxy { get; set; }

    public ConnectDto? Connect { get; set; }

    public string? Namespace { get; set; }

    public string? Partition { get; set; }

    public string? Datacenter { get; set; }
}

/// <summary>A service's tagged address.</summary>
internal sealed class ServiceAddressDto
{
    public string? Address { get; set; }

    public int Port { get; set; }
}

/// <summary>A service's <c>Connect</c> block.</summary>
internal sealed class ConnectDto
{
    public bool Native { get; set; }
}

/// <summary>A health check of an entry.</summary>
internal sealed class HealthCheckDto
{
    public string? Status { get; set; }
}
