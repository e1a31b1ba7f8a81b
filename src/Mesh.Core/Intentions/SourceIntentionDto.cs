using System.Text.Json.Serialization;

namespace Mesh.Intentions;

/// <summary>One source of a <c>service-intentions</c> config entry.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
internal sealed class SourceIntentionDto
{
    public string? Name { get; set; }

    public string? Peer { get; set; }

    public string? Namespace { get; set; }

    public string? Partition { get; set; }

    public string? SamenessGroup { get; set; }

    public string? Action { get; set; }

    public List<PermissionDto?>? Permissions { get; set; }

    public int? Precedence { get; set; }

    [JsonPropertyName("LegacyID")]
    public string? LegacyId { get; set; }

    public string? Type { get; set; }

    public string? Description { get; set; }

    public Dictionary<string, string>? LegacyMeta { get; set; }

    public string? LegacyCreateTime { get; set; }

    public string? LegacyUpdateTime { get; set; }
}
