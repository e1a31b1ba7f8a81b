using System.Text.Json;
using System.Text.Json.Serialization;

namespace Mesh.Intentions;

/// <summary>A <c>service-intentions</c> config entry as Consul reads and writes it.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
internal sealed class ConfigEntryDto
{
    public string? Kind { get; set; }

    public string? Name { get; set; }

    public string? Namespace { get; set; }

    public string? Partition { get; set; }

    public List<SourceIntentionDto?>? Sources { get; set; }

    public Dictionary<string, string>? Meta { get; set; }

    [JsonPropertyName("JWT")]
    public JsonElement? Jwt { get; set; }

    public ulong? CreateIndex { get; set; }

    public ulong? ModifyIndex { get; set; }

    public ulong? Hash { get; set; }
}
