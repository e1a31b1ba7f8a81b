using System.Text.Json.Serialization;

namespace Mesh.Intentions;

/// <summary>A header matcher of a permission as Consul writes it.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
internal sealed class HeaderMatchDto
{
    public string? Name { get; set; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool Present { get; set; }

    public string? Exact { get; set; }

    public string? Prefix { get; set; }

    public string? Suffix { get; set; }

    public string? Regex { get; set; }

    // Newer Consul versions; refused until Mesh enforces them.
    public string? Contains { get; set; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool IgnoreCase { get; set; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool Invert { get; set; }
}
