using System.Text.Json.Serialization;

namespace Mesh.Consul.Json;

/// <summary><c>GET /v1/agent/connect/ca/leaf/&lt;service&gt;</c>: the leaf, its intermediates and the key the agent generated.</summary>
internal sealed class LeafDto
{
    public string? SerialNumber { get; set; }

    [JsonPropertyName("CertPEM")]
    public string? CertPem { get; set; }

    [JsonPropertyName("PrivateKeyPEM")]
    public string? PrivateKeyPem { get; set; }

    public string? Service { get; set; }

    [JsonPropertyName("ServiceURI")]
    public string? ServiceUri { get; set; }

    public DateTimeOffset? ValidAfter { get; set; }

    public DateTimeOffset? ValidBefore { get; set; }

    public ulong? ModifyIndex { get; set; }
}
