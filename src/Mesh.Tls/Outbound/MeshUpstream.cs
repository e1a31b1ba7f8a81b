using System.Net;
using Mesh.Identity;
using Mesh.Tls.Configuration;

namespace Mesh.Tls.Outbound;

/// <summary>
/// An upstream, as an entry of Consul's <c>Proxy.Upstreams</c>: the destination service (<see cref="Name"/>, in its namespace and
/// partition), its datacenter, optionally one subset, and for a sidecar the local address its listener binds. Parts left null are
/// the caller's own, as in Consul. The same type configures an in-process service (<c>MeshOptions.Upstreams</c>, dialled by
/// <see cref="Name"/>) and a sidecar (<c>SidecarOptions.Upstreams</c>, one listener each).
/// </summary>
/// <remarks>Settable properties, so <c>MeshOptions</c> binds from configuration (<c>Upstreams:0:Name</c>, <c>Upstreams:0:Datacenter</c>…).</remarks>
public sealed class MeshUpstream
{
    /// <summary>Creates an empty upstream; set <see cref="Name"/> at least.</summary>
    public MeshUpstream()
    {
    }

    /// <summary>Creates an upstream to <paramref name="destination"/>.</summary>
    /// <param name="destination">The destination service, with its namespace and partition.</param>
    /// <param name="datacenter">The destination's datacenter; the caller's own when null. Another one is reached through the local mesh gateways.</param>
    /// <param name="localBindAddress">For a sidecar: where the local application connects.</param>
    public MeshUpstream(ServiceName destination, string? datacenter = null, IPEndPoint? localBindAddress = null)
    {
        Name = destination.Name;
        Namespace = destination.Namespace;
        Partition = destination.Partition;
        Datacenter = datacenter;
        LocalBindAddress = localBindAddress;
    }

    /// <summary>The destination service's name; <c>DialAsync("counting")</c> and <c>http://counting/</c> use it. Required.</summary>
    public string? Name { get; set; }

    /// <summary>The destination's namespace; the caller's when null (as Consul).</summary>
    public string? Namespace { get; set; }

    /// <summary>The destination's partition; the caller's when null.</summary>
    public string? Partition { get; set; }

    /// <summary>The destination's datacenter; the caller's when null. A remote one is reached through the local mesh gateways.</summary>
    public string? Datacenter { get; set; }

    /// <summary>A subset of the destination: its SNI name, and the endpoints whose <c>subset</c> metadata names it. Null for every endpoint.</summary>
    public string? Subset { get; set; }

    /// <summary>For a sidecar: where its plain-TCP listener for this upstream binds (Consul's <c>LocalBindAddress</c> and <c>LocalBindPort</c>); port 0 picks one. Unused in-process.</summary>
    public IPEndPoint? LocalBindAddress { get; set; }

    /// <inheritdoc />
    public override string ToString() =>
        (Subset is null ? string.Empty : Subset + ".") + Name
        + (Namespace is null or ServiceName.Default ? string.Empty : "." + Namespace)
        + "@" + (Datacenter ?? "local")
        + (LocalBindAddress is null ? string.Empty : " on " + LocalBindAddress);

    /// <summary>The dial target, with the parts left null taken from <paramref name="caller"/>.</summary>
    /// <exception cref="ArgumentException">A part is not a usable name; run <see cref="Validate"/> first for a message naming the option.</exception>
    internal MeshDialTarget ToTarget(ServiceIdentity caller) =>
        new(new ServiceName(Name!, Namespace ?? caller.Service.Namespace, Partition ?? caller.Service.Partition), Datacenter ?? caller.Datacenter, Subset);

    /// <summary>
    /// Adds what is wrong with this upstream to <paramref name="errors"/>, each message starting with <paramref name="owner"/>
    /// (<c>MeshOptions.Upstreams[]</c>, <c>SidecarOptions.Upstreams[]</c>). The one set of rules both option types apply.
    /// </summary>
    internal void Validate(List<string> errors, string owner, bool requireLocalBindAddress)
    {
        if (Name is null)
        {
            errors.Add($"{owner}.Name is required: the destination service's name, such as \"counting\".");
        }

        OptionRules.AddIfInvalidNamePart(errors, Name, $"{owner}.Name", "service name");
        OptionRules.AddIfInvalidNamePart(errors, Namespace, $"{owner}.Namespace", "namespace");
        OptionRules.AddIfInvalidNamePart(errors, Partition, $"{owner}.Partition", "partition");
        OptionRules.AddIfInvalidNamePart(errors, Datacenter, $"{owner}.Datacenter", "datacenter");
        OptionRules.AddIfInvalidNamePart(errors, Subset, $"{owner}.Subset", "subset");
        if (requireLocalBindAddress && LocalBindAddress is null)
        {
            errors.Add($"{owner}.LocalBindAddress is required for upstream {this}: the address the local application connects to, such as 127.0.0.1:9001.");
        }
    }
}
