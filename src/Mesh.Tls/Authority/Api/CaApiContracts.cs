using System.Text.Json.Serialization;

namespace Mesh.Tls.Authority.Api;

// The wire shapes of the CA role's HTTP API. Roots and issued certificates use Consul's field names
// (GET /v1/agent/connect/ca/roots, the IssuedCert of /v1/agent/connect/ca/leaf), so a Consul-backed client reads the same JSON.

internal sealed class CaRootList
{
    public string ActiveRootID { get; set; } = string.Empty;

    public string TrustDomain { get; set; } = string.Empty;

    public List<CaRootEntry> Roots { get; set; } = [];
}

internal sealed class CaRootEntry
{
    public string ID { get; set; } = string.Empty;

    public string Name { get; set; } = string.Empty;

    public string SerialNumber { get; set; } = string.Empty;

    public string SigningKeyID { get; set; } = string.Empty;

    public DateTimeOffset NotBefore { get; set; }

    public DateTimeOffset NotAfter { get; set; }

    public string RootCert { get; set; } = string.Empty;

    public List<string> IntermediateCerts { get; set; } = [];

    public bool Active { get; set; }
}

internal sealed class CaSignRequest
{
    [JsonPropertyName("CSR")]
    public string? Csr { get; set; }
}

internal sealed class CaIssuedCertificate
{
    public string SerialNumber { get; set; } = string.Empty;

    public string CertPEM { get; set; } = string.Empty;

    public string Service { get; set; } = string.Empty;

    public string ServiceURI { get; set; } = string.Empty;

    public DateTimeOffset ValidAfter { get; set; }

    public DateTimeOffset ValidBefore { get; set; }
}

internal sealed class CaError
{
    public string Error { get; set; } = string.Empty;

    public string? Rule { get; set; }
}

[JsonSourceGenerationOptions(PropertyNameCaseInsensitive = true)]
[JsonSerializable(typeof(CaRootList))]
[JsonSerializable(typeof(CaSignRequest))]
[JsonSerializable(typeof(CaIssuedCertificate))]
[JsonSerializable(typeof(CaError))]
internal sealed partial class CaApiJsonContext : JsonSerializerContext;
