using System.Text.Json.Serialization;

namespace Mesh.Consul.Json;

/// <summary><c>GET /v1/agent/connect/ca/roots</c>.</summary>
internal sealed class RootsDto
{
    public string? TrustDomain { get; set; }

    public List<RootDto?>? Roots { get; set; }
}

/// <summary>One root of the roots list; every <c>RootCert</c> is trusted.</summary>
internal sealed class RootDto
{
    [JsonPropertyName("ID")]
    public string? Id { get; set; }

    public string? RootCert { get; set; }

    public List<string>? IntermediateCerts { get; set; }

    public bool Active { get; set; }
}
