using System.Text.Json.Serialization;

namespace Mesh.Intentions;

/// <summary>The <c>HTTP</c> block of a permission as Consul writes it.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
internal sealed class HttpMatchDto
{
    public string? PathExact { get; set; }

    public string? PathPrefix { get; set; }

    public string? PathRegex { get; set; }

    public List<HeaderMatchDto?>? Header { get; set; }

    public List<string?>? Methods { get; set; }
}
