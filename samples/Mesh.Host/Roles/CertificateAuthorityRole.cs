using Mesh.ControlPlane.File;
using Mesh.Tls.Authority;

namespace Mesh.Host.Roles;

/// <summary>
/// The CA role: one mesh CA for the file's trust domain, signing for every datacenter of the file, exposed over HTTP on the
/// file's CA address. Its keys never leave this process.
/// </summary>
internal static class CertificateAuthorityRole
{
    public static MeshCertificateAuthority CreateAuthority(ControlPlaneConfiguration configuration, ILoggerFactory loggerFactory)
    {
        var options = new MeshCaOptions
        {
            TrustDomain = configuration.TrustDomain,
            Datacenter = configuration.Datacenters.Count > 0 ? configuration.Datacenters[0] : "dc1",
        };
        for (int i = 1; i < configuration.Datacenters.Count; i++)
        {
            options.AdditionalDatacenters.Add(configuration.Datacenters[i]);
        }

        if (configuration.LeafTtl is TimeSpan ttl)
        {
            // A file may ask for short-lived leaves (dev mode, rotation demos); Consul's 1 h floor applies otherwise.
            options.LeafTtl = ttl;
            options.MinimumLeafTtl = ttl < options.MinimumLeafTtl ? ttl : options.MinimumLeafTtl;
        }

        return new MeshCertificateAuthority(options, logger: loggerFactory.CreateLogger<MeshCertificateAuthority>());
    }
}
