using System.ComponentModel.DataAnnotations;

namespace Mesh.Tls.InProcess;

/// <summary>
/// An upstream of an in-process service, as an entry of Consul's <c>Proxy.Upstreams</c>: the destination service dialled by
/// <see cref="Name"/>, in its namespace, partition and datacenter (the caller's own when null).
/// </summary>
public sealed class MeshUpstreamOptions : IValidatableObject
{
    /// <summary>The destination service's name; <c>DialAsync("counting")</c> and <c>http://counting/</c> use it. Required.</summary>
    [Required(ErrorMessage = "MeshOptions.Upstreams[].Name is required: the destination service's name, such as \"counting\".")]
    public string? Name { get; set; }

    /// <summary>The destination's namespace; the caller's when null (as Consul).</summary>
    public string? Namespace { get; set; }

    /// <summary>The destination's partition; the caller's when null.</summary>
    public string? Partition { get; set; }

    /// <summary>The destination's datacenter; the caller's when null. A remote one is reached through the local mesh gateways.</summary>
    public string? Datacenter { get; set; }

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        var results = new List<ValidationResult>();
        const string owner = "MeshOptions.Upstreams[]";
        MeshOptions.Part(results, Name, nameof(Name), "service name", owner);
        MeshOptions.Part(results, Namespace, nameof(Namespace), "namespace", owner);
        MeshOptions.Part(results, Partition, nameof(Partition), "partition", owner);
        MeshOptions.Part(results, Datacenter, nameof(Datacenter), "datacenter", owner);
        return results;
    }
}
