using System.Net;
using Mesh.Identity;

namespace Mesh.ControlPlane.File;

/// <summary>
/// One service instance of the control-plane file: where the application listens, where its mesh endpoint (a sidecar's public
/// listener, or the service itself when it joins the mesh natively) accepts mTLS, and its upstreams.
/// </summary>
public sealed class ServiceDefinition
{
    internal ServiceDefinition(
        string id,
        ServiceIdentity identity,
        IPEndPoint applicationAddress,
        IPEndPoint meshAddress,
        bool isNative,
        bool isHealthy,
        IReadOnlyDictionary<string, string> meta,
        IReadOnlyList<UpstreamDefinition> upstreams)
    {
        Id = id;
        Identity = identity;
        ApplicationAddress = applicationAddress;
        MeshAddress = meshAddress;
        IsNative = isNative;
        IsHealthy = isHealthy;
        Meta = meta;
        Upstreams = upstreams;
    }

    /// <summary>The instance ID (Consul's service ID); the service name when the file gives none.</summary>
    public string Id { get; }

    /// <summary>The service and datacenter.</summary>
    public ServiceIdentity Identity { get; }

    /// <summary>Where the application itself listens (the sidecar's local-app target).</summary>
    public IPEndPoint ApplicationAddress { get; }

    /// <summary>Where mesh mTLS connections for this instance are accepted.</summary>
    public IPEndPoint MeshAddress { get; }

    /// <summary>Whether the service terminates mesh mTLS itself (Consul's <c>Connect.Native</c>) rather than through a sidecar.</summary>
    public bool IsNative { get; }

    /// <summary>Whether the instance's health is passing; only healthy instances receive traffic.</summary>
    public bool IsHealthy { get; }

    /// <summary>Service metadata (used by subsets).</summary>
    public IReadOnlyDictionary<string, string> Meta { get; }

    /// <summary>The upstreams the instance's sidecar (or in-process mesh) serves.</summary>
    public IReadOnlyList<UpstreamDefinition> Upstreams { get; }
}
