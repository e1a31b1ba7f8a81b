using System.Net;
using Mesh.Identity;

namespace Mesh.Tls.Sidecar;

/// <summary>
/// An upstream listener of a sidecar: plain TCP on <see cref="LocalBindAddress"/> (127.0.0.1 by default, as Consul's proxies)
/// whose connections go over mesh mTLS to <see cref="Destination"/> in <see cref="Datacenter"/>.
/// </summary>
public sealed class SidecarUpstream
{
    /// <summary>Creates an upstream.</summary>
    /// <param name="destination">The destination service.</param>
    /// <param name="datacenter">The destination's datacenter; a remote one is reached through the local mesh gateways.</param>
    /// <param name="localBindAddress">Where the local application connects.</param>
    public SidecarUpstream(ServiceName destination, string datacenter, IPEndPoint localBindAddress)
    {
        ArgumentNullException.ThrowIfNull(localBindAddress);
        Destination = destination;
        Datacenter = ServiceName.CheckPart(datacenter, "datacenter", nameof(datacenter));
        LocalBindAddress = localBindAddress;
    }

    /// <summary>The destination service.</summary>
    public ServiceName Destination { get; }

    /// <summary>The destination's datacenter.</summary>
    public string Datacenter { get; }

    /// <summary>Where the local application connects.</summary>
    public IPEndPoint LocalBindAddress { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Destination}@{Datacenter}";
}
