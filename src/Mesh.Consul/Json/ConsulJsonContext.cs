using System.Text.Json.Serialization;

namespace Mesh.Consul.Json;

/// <summary>Source-generated (trimming- and AOT-safe) JSON for the agent endpoints Mesh reads. Unknown fields are skipped.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(LeafDto))]
[JsonSerializable(typeof(RootsDto))]
[JsonSerializable(typeof(List<HealthEntryDto?>))]
[JsonSerializable(typeof(AgentServiceDto))]
[JsonSerializable(typeof(Dictionary<string, AgentServiceDto?>))]
[JsonSerializable(typeof(Dictionary<string, List<string>?>))]
[JsonSerializable(typeof(List<string>))]
[JsonSerializable(typeof(AuthorizeRequestDto))]
[JsonSerializable(typeof(AuthorizeResponseDto))]
internal sealed partial class ConsulJsonContext : JsonSerializerContext;
