using System.Net;

namespace Mesh.ControlPlane;

/// <summary>
/// A mesh gateway of a datacenter: its LAN address (used by workloads of its own datacenter) and its WAN address (used by the
/// gateways of other datacenters), as Consul registers them.
/// </summary>
public sealed class MeshGatewayEndpoint
{
    /// <summary>Creates a gateway endpoint.</summary>
    public MeshGatewayEndpoint(string datacenter, IPEndPoint lanAddress, IPEndPoint wanAddress, string? partition = null)
    {
        ArgumentNullException.ThrowIfNull(lanAddress);
        ArgumentNullException.ThrowIfNull(wanAddress);
        Datacenter = Identity.ServiceName.CheckPart(datacenter, "datacenter", nameof(datacenter));
        Partition = string.IsNullOrEmpty(partition) ? Identity.ServiceName.Default : Identity.ServiceName.CheckPart(partition, "partition", nameof(partition));
        LanAddress = lanAddress;
        WanAddress = wanAddress;
    }

    /// <summary>The datacenter the gateway serves.</summary>
    public string Datacenter { get; }

    /// <summary>The admin partition the gateway serves.</summary>
    public string Partition { get; }

    /// <summary>The address workloads of the gateway's own datacenter dial.</summary>
    public IPEndPoint LanAddress { get; }

    /// <summary>The address gateways of other datacenters dial.</summary>
    public IPEndPoint WanAddress { get; }

    /// <inheritdoc />
    public override string ToString() => $"mesh gateway {Datacenter} (LAN {LanAddress}, WAN {WanAddress})";
}
