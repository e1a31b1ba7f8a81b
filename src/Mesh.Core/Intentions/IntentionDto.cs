using System.Text.Json.Serialization;

namespace Mesh.Intentions;

/// <summary>One intention of the flat <c>/v1/connect/intentions</c> list. Unknown keys are skipped: it is API output, not input.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Skip)]
internal sealed class IntentionDto
{
    [JsonPropertyName("ID")]
    public string? Id { get; set; }

    public string? Description { get; set; }

    public string? SourcePeer { get; set; }

    [JsonPropertyName("SourceNS")]
    public string? SourceNamespace { get; set; }

    public string? SourceName { get; set; }

    [JsonPropertyName("DestinationNS")]
    public string? DestinationNamespace { get; set; }

    public string? DestinationName { get; set; }

    public string? SourcePartition { get; set; }

    public string? DestinationPartition { get; set; }

    public string? SourceSamenessGroup { get; set; }

    public string? SourceType { get; set; }

    public string? Action { get; set; }

    public List<PermissionDto?>? Permissions { get; set; }

    public Dictionary<string, string>? Meta { get; set; }

    public int? Precedence { get; set; }

    public ulong? CreateIndex { get; set; }

    public ulong? ModifyIndex { get; set; }
}
