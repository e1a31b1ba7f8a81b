using System.Net;
using Mesh.Endpoints;
using Mesh.Identity;
using Mesh.Splicing;
using Mesh.Tls.Outbound;

namespace Mesh.Tls.Sidecar;

/// <summary>Settings of a <see cref="MeshSidecar"/>. Timeouts default to Consul's built-in proxy (consul-semantics §6).</summary>
public sealed class SidecarOptions
{
    /// <summary>The service the sidecar fronts, and its datacenter. Required.</summary>
    public ServiceIdentity Service { get; set; }

    /// <summary>The mesh's trust domain. Required.</summary>
    public TrustDomain TrustDomain { get; set; }

    /// <summary>Where the public listener accepts mesh mTLS connections. Required.</summary>
    public IPEndPoint? PublicListener { get; set; }

    /// <summary>Where the local application listens; authorized inbound connections are spliced to it. Required.</summary>
    public IPEndPoint? LocalApplication { get; set; }

    /// <summary>
    /// The upstream listeners at start, each with its <see cref="MeshUpstream.LocalBindAddress"/>; the destination's datacenter,
    /// namespace and partition are the sidecar's own when left null. <see cref="MeshSidecar.UpdateUpstreams"/> changes them while running.
    /// </summary>
    public IList<MeshUpstream> Upstreams { get; } = [];

    /// <summary>The source address of connections to other sidecars and gateways; the public listener's address when null.</summary>
    public IPAddress? OutboundAddress { get; set; }

    /// <summary>How long a TLS handshake may take (10 s).</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long connecting to an upstream endpoint may take before the next is tried (10 s).</summary>
    public TimeSpan UpstreamConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long connecting to the local application may take (1 s).</summary>
    public TimeSpan LocalApplicationConnectTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Where the check of the local application connects (Consul's TCP check, <c>Check.TCP</c> of the service definition);
    /// <see cref="LocalApplication"/> when null. While the check fails the sidecar reports not healthy
    /// (<see cref="MeshSidecar.IsLocalApplicationHealthy"/>) and refuses inbound connections before any handshake, so callers
    /// and gateways move to another endpoint.
    /// </summary>
    public IPEndPoint? LocalApplicationCheckAddress { get; set; }

    /// <summary>How often the local application is checked (1 s); <see cref="TimeSpan.Zero"/> turns the check off.</summary>
    public TimeSpan LocalApplicationCheckInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long one check's connect may take before the check fails (1 s).</summary>
    public TimeSpan LocalApplicationCheckTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// When an upstream endpoint that refuses connections leaves the rotation and for how long (Envoy's outlier detection); when
    /// every endpoint is ejected, all are still tried.
    /// </summary>
    public OutlierDetectionOptions OutlierDetection { get; set; } = OutlierDetectionOptions.Default;

    /// <summary>How spliced connections behave.</summary>
    public SpliceOptions Splice { get; set; } = SpliceOptions.Default;
}
