using System.Net;
using Mesh.Identity;

namespace Mesh.ControlPlane.File;

/// <summary>
/// An upstream of a service, as Consul's <c>Proxy.Upstreams</c> entries describe it: a local listener on
/// <see cref="LocalBindAddress"/> whose connections go to <see cref="Destination"/> in <see cref="Datacenter"/>.
/// </summary>
public sealed class UpstreamDefinition
{
    internal UpstreamDefinition(ServiceName destination, string datacenter, IPEndPoint localBindAddress)
    {
        Destination = destination;
        Datacenter = datacenter;
        LocalBindAddress = localBindAddress;
    }

    /// <summary>The destination service.</summary>
    public ServiceName Destination { get; }

    /// <summary>The destination's datacenter (the caller's own unless the upstream names another).</summary>
    public string Datacenter { get; }

    /// <summary>Where the local listener binds (127.0.0.1 unless configured otherwise, as Consul's proxies).</summary>
    public IPEndPoint LocalBindAddress { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Destination}@{Datacenter} on {LocalBindAddress}";
}
