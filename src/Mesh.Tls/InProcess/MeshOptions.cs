using Mesh.Identity;
using Mesh.Tls.Outbound;

namespace Mesh.Tls.InProcess;

/// <summary>
/// Settings of an in-process mesh member (<see cref="MeshService"/>): who the service is, where its control plane and CA are,
/// its upstreams and timeouts. Validated when the host starts and when a <see cref="MeshService"/> is built with them
/// (<see cref="MeshOptionsValidator"/>); each message names the option.
/// </summary>
public sealed class MeshOptions
{
    /// <summary>The service's name, as in its SPIFFE ID (<c>.../svc/&lt;name&gt;</c>). Required.</summary>
    public string? Service { get; set; }

    /// <summary>The service's namespace; <c>default</c> when null.</summary>
    public string? Namespace { get; set; }

    /// <summary>The service's admin partition; <c>default</c> when null.</summary>
    public string? Partition { get; set; }

    /// <summary>The service's datacenter. Required.</summary>
    public string? Datacenter { get; set; }

    /// <summary>The mesh's trust domain (<c>&lt;cluster-uuid&gt;.consul</c>); taken from the control-plane file when null.</summary>
    public string? TrustDomain { get; set; }

    /// <summary>
    /// The control-plane file (the same format the sidecar host reads): catalog, mesh gateways, intentions, CA address and tokens.
    /// Required unless the catalog and intentions are registered in the service collection as <c>IServiceCatalog</c> and
    /// <c>IIntentionSource</c>.
    /// </summary>
    public string? ControlPlaneFile { get; set; }

    /// <summary>
    /// Builds the leaf, trust bundle, catalog and intention sources in place of the control-plane file and the CA, such as from a
    /// Consul agent (Mesh.Consul's <c>UseConsul</c>). Called once, when the <see cref="MeshService"/> is created; the trust domain
    /// then comes from the first leaf unless <see cref="TrustDomain"/> is set. Null (the default) uses the file and the CA.
    /// </summary>
    public Func<IServiceProvider, MeshControlPlaneSources>? ControlPlaneSources { get; set; }

    /// <summary>How often the control-plane file is checked for changes (1 s).</summary>
    public TimeSpan ControlPlanePollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The CA role's HTTP address; the control-plane file's <c>CA.Address</c> when null.</summary>
    public Uri? CertificateAuthorityAddress { get; set; }

    /// <summary>The token the CA requires for this service's CSRs; the control-plane file's token for the service when null.</summary>
    public string? Token { get; set; }

    /// <summary>The upstreams this service dials by name (<see cref="MeshUpstream.Name"/>), with their destination's datacenter, namespace and subset.</summary>
    public IList<MeshUpstream> Upstreams { get; } = [];

    /// <summary>
    /// <c>allow</c> or <c>deny</c>: the decision for inbound callers no intention matches, overriding the control plane's
    /// <c>DefaultIntentionPolicy</c>; the control plane's policy (deny unless it says allow) when null.
    /// </summary>
    public string? DefaultIntentionPolicy { get; set; }

    /// <summary>How long connecting to one endpoint may take before the next is tried (10 s, as Consul's proxies).</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long an mTLS handshake may take, either side (10 s).</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The service name with its namespace and partition.</summary>
    internal ServiceName ServiceName => new(Service!, Namespace, Partition);

    /// <summary>Finds the configured upstream called <paramref name="name"/>.</summary>
    internal MeshUpstream? FindUpstream(string name)
    {
        foreach (MeshUpstream upstream in Upstreams)
        {
            if (string.Equals(upstream.Name, name, StringComparison.Ordinal))
            {
                return upstream;
            }
        }

        return null;
    }
}
