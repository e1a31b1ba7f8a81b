namespace Mesh.ControlPlane.File;

/// <summary>
/// What a CA token may obtain certificates for. Each kind is its own key space: a mesh-gateway token never covers a service,
/// whatever the service is named, and a service token never covers a gateway.
/// </summary>
public enum CertificateAuthorityTokenKind
{
    /// <summary>One service in one namespace and partition, as Consul's ACL <c>service:write</c> on that service.</summary>
    Service = 1,

    /// <summary>The mesh gateways of one partition, as Consul's <c>mesh:write</c> with <c>service:write</c> on the gateway.</summary>
    MeshGateway,
}
