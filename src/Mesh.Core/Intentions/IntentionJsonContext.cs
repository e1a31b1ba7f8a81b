using System.Text.Json.Serialization;

namespace Mesh.Intentions;

/// <summary>Source-generated (AOT-safe) JSON metadata for Consul's intention formats; keys are matched without regard to case, as Consul does.</summary>
[JsonSourceGenerationOptions(
    PropertyNameCaseInsensitive = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    WriteIndented = true)]
[JsonSerializable(typeof(ConfigEntryDto))]
[JsonSerializable(typeof(List<ConfigEntryDto?>))]
[JsonSerializable(typeof(List<IntentionDto?>))]
internal sealed partial class IntentionJsonContext : JsonSerializerContext;
