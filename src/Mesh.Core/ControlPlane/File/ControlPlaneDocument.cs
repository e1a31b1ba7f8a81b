using System.Text.Json;
using System.Text.Json.Serialization;

namespace Mesh.ControlPlane.File;

// The JSON shapes of the control-plane file. Services use the shape of Consul's service definition (`Connect.SidecarService.Proxy.Upstreams`,
// `Connect.Native`), intentions are `service-intentions` config entries as Consul stores them, so a Consul-backed source can replace the file.

internal sealed class ControlPlaneDocument
{
    public string? TrustDomain { get; set; }

    public CertificateAuthorityDocument? CA { get; set; }

    public List<DatacenterDocument?>? Datacenters { get; set; }

    public List<ServiceDocument?>? Services { get; set; }

    public JsonElement Intentions { get; set; }

    public string? DefaultIntentionPolicy { get; set; }
}

internal sealed class CertificateAuthorityDocument
{
    public string? Address { get; set; }

    public List<CertificateAuthorityTokenDocument?>? Tokens { get; set; }

    public double? LeafTtlHours { get; set; }
}

internal sealed class DatacenterDocument
{
    public string? Name { get; set; }

    public List<MeshGatewayDocument?>? MeshGateways { get; set; }
}

internal sealed class MeshGatewayDocument
{
    public string? ID { get; set; }

    public string? LanAddress { get; set; }

    public string? WanAddress { get; set; }

    public string? Partition { get; set; }
}

internal sealed class ServiceDocument
{
    public string? ID { get; set; }

    public string? Name { get; set; }

    public string? Namespace { get; set; }

    public string? Partition { get; set; }

    public string? Datacenter { get; set; }

    public string? Address { get; set; }

    public int Port { get; set; }

    public Dictionary<string, string?>? Meta { get; set; }

    /// <summary>Consul's health: <c>passing</c> (the default), <c>warning</c> or <c>critical</c>; only passing endpoints receive traffic.</summary>
    public string? Status { get; set; }

    public ConnectDocument? Connect { get; set; }

    public CheckDocument? Check { get; set; }
}

/// <summary>Consul's TCP check of a service definition: <c>{"TCP": "127.0.0.1:9003", "Interval": "10s", "Timeout": "1s"}</c>.</summary>
internal sealed class CheckDocument
{
    public string? TCP { get; set; }

    public string? Interval { get; set; }

    public string? Timeout { get; set; }
}

internal sealed class ConnectDocument
{
    public bool Native { get; set; }

    public SidecarServiceDocument? SidecarService { get; set; }
}

internal sealed class SidecarServiceDocument
{
    public string? Address { get; set; }

    public int Port { get; set; }

    public ProxyDocument? Proxy { get; set; }
}

internal sealed class ProxyDocument
{
    public List<UpstreamDocument?>? Upstreams { get; set; }
}

internal sealed class UpstreamDocument
{
    public string? DestinationName { get; set; }

    public string? DestinationNamespace { get; set; }

    public string? DestinationPartition { get; set; }

    public string? Datacenter { get; set; }

    public string? LocalBindAddress { get; set; }

    public int LocalBindPort { get; set; }
}

[JsonSourceGenerationOptions(
    PropertyNameCaseInsensitive = true,
    ReadCommentHandling = JsonCommentHandling.Skip,
    AllowTrailingCommas = true,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(ControlPlaneDocument))]
internal sealed partial class ControlPlaneJsonContext : JsonSerializerContext;
