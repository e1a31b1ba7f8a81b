using Mesh.ControlPlane.File;
using Mesh.Tls.Authority;

namespace Mesh.Host.Roles;

/// <summary>
/// The CA role: one mesh CA for the file's trust domain, signing for every datacenter of the file, exposed over HTTP on the
/// file's CA address. Its keys never leave this process and its data directory (<c>--data-dir</c>, by default <c>.mesh-ca</c>
/// beside the control-plane file).
/// </summary>
internal static class CertificateAuthorityRole
{
    public static MeshCertificateAuthority CreateAuthority(ControlPlaneConfiguration configuration, string dataDirectory, ILoggerFactory loggerFactory)
    {
        var options = new MeshCaOptions
        {
            TrustDomain = configuration.TrustDomain,
            Datacenter = configuration.Datacenters.Count > 0 ? configuration.Datacenters[0] : "dc1",

            // The root lives in the data directory (owner-only PEM files, docs/ca-keys.md): a restarted CA keeps its root, so
            // running sidecars keep trusting each other and need not renew.
            KeyDirectory = dataDirectory,
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
