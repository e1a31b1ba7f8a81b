namespace Mesh.ControlPlane.File;

// One entry of CA.Tokens: {"Token": "...", "Service": "dashboard", "Namespace": "default", "Partition": "default",
// "DnsNames": ["dashboard.example.com"]} or {"Token": "...", "MeshGateway": true, "Partition": "default"}.
internal sealed class CertificateAuthorityTokenDocument
{
    public string? Token { get; set; }

    public string? Service { get; set; }

    public string? Namespace { get; set; }

    public string? Partition { get; set; }

    public bool MeshGateway { get; set; }

    public List<string>? DnsNames { get; set; }
}
