using System.Net;
using Mesh.Identity;
using Mesh.Splicing;

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

    /// <summary>The upstream listeners.</summary>
    public IList<SidecarUpstream> Upstreams { get; } = [];

    /// <summary>The source address of connections to other sidecars and gateways; the public listener's address when null.</summary>
    public IPAddress? OutboundAddress { get; set; }

    /// <summary>How long a TLS handshake may take (10 s).</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long connecting to an upstream endpoint may take before the next is tried (10 s).</summary>
    public TimeSpan UpstreamConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long connecting to the local application may take (1 s).</summary>
    public TimeSpan LocalApplicationConnectTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How spliced connections behave.</summary>
    public SpliceOptions Splice { get; set; } = SpliceOptions.Default;

    internal void Validate()
    {
        Require(Service.IsValid, nameof(Service), "name the service and datacenter the sidecar fronts");
        Require(TrustDomain.IsValid, nameof(TrustDomain), "name the mesh's trust domain");
        Require(PublicListener is not null, nameof(PublicListener), "give the address of the public mTLS listener");
        Require(LocalApplication is not null, nameof(LocalApplication), "give the address the local application listens on");
        Require(HandshakeTimeout > TimeSpan.Zero && UpstreamConnectTimeout > TimeSpan.Zero && LocalApplicationConnectTimeout > TimeSpan.Zero, "timeouts", "be positive");
        ArgumentNullException.ThrowIfNull(Splice, nameof(Splice));
    }

    private static void Require(bool condition, string option, string what)
    {
        if (!condition)
        {
            throw new ArgumentException($"SidecarOptions.{option}: {what}.");
        }
    }
}
