using System.Text.Json.Serialization;

namespace Mesh.Consul.Json;

/// <summary>The body of <c>POST /v1/agent/connect/authorize</c>.</summary>
internal sealed class AuthorizeRequestDto
{
    public string? Target { get; set; }

    [JsonPropertyName("ClientCertURI")]
    public string? ClientCertUri { get; set; }

    public string? ClientCertSerial { get; set; }
}

/// <summary>The answer of <c>POST /v1/agent/connect/authorize</c>.</summary>
internal sealed class AuthorizeResponseDto
{
    public bool Authorized { get; set; }

    public string? Reason { get; set; }
}
