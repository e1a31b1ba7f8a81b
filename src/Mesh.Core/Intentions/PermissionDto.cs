using System.Text.Json;
using System.Text.Json.Serialization;

namespace Mesh.Intentions;

/// <summary>An L7 permission as Consul writes it.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
internal sealed class PermissionDto
{
    public string? Action { get; set; }

    [JsonPropertyName("HTTP")]
    public HttpMatchDto? Http { get; set; }

    [JsonPropertyName("JWT")]
    public JsonElement? Jwt { get; set; }
}
