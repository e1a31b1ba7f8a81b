using System.Text.Json.Serialization;

namespace Mesh.Tls.Authority;

/// <summary>The JSON shape of a SPIFFE bundle (Trust Domain and Bundle §4): a JWK set with SPIFFE parameters.</summary>
internal sealed class SpiffeBundleDocument
{
    [JsonPropertyName("keys")]
    public List<SpiffeBundleKey>? Keys { get; set; }

    [JsonPropertyName("spiffe_sequence")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? Sequence { get; set; }

    [JsonPropertyName("spiffe_refresh_hint")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? RefreshHint { get; set; }
}

/// <summary>One JWK of a SPIFFE bundle (Trust Domain and Bundle §4.2).</summary>
internal sealed class SpiffeBundleKey
{
    [JsonPropertyName("use")]
    public string? Use { get; set; }

    [JsonPropertyName("kty")]
    public string? KeyType { get; set; }

    [JsonPropertyName("crv")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Curve { get; set; }

    [JsonPropertyName("x")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? X { get; set; }

    [JsonPropertyName("y")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Y { get; set; }

    [JsonPropertyName("n")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Modulus { get; set; }

    [JsonPropertyName("e")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Exponent { get; set; }

    [JsonPropertyName("x5c")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public List<string>? X5c { get; set; }
}

[JsonSerializable(typeof(SpiffeBundleDocument))]
[JsonSourceGenerationOptions(WriteIndented = true)]
internal sealed partial class SpiffeBundleJsonContext : JsonSerializerContext;
