using Mesh.Identity;

namespace Mesh.Tls.Outbound;

/// <summary>
/// What one dial reaches: the destination service in its datacenter, optionally one subset of it. <see cref="Label"/> names it
/// in log lines, spans and errors as <c>[subset.]service@datacenter</c>.
/// </summary>
internal sealed class MeshDialTarget : IEquatable<MeshDialTarget>
{
    /// <exception cref="ArgumentException">The datacenter or subset is not a usable name part.</exception>
    public MeshDialTarget(ServiceName destination, string datacenter, string? subset = null)
    {
        Destination = destination;
        Datacenter = ServiceName.CheckPart(datacenter, "datacenter", nameof(datacenter));
        Subset = string.IsNullOrEmpty(subset) ? null : ServiceName.CheckPart(subset, "subset", nameof(subset));
        Label = (Subset is null ? string.Empty : Subset + ".") + destination + "@" + Datacenter;
    }

    /// <summary>The destination service.</summary>
    public ServiceName Destination { get; }

    /// <summary>The destination's datacenter.</summary>
    public string Datacenter { get; }

    /// <summary>The subset, or null for every endpoint of the service.</summary>
    public string? Subset { get; }

    /// <summary><c>[subset.]service@datacenter</c>.</summary>
    public string Label { get; }

    /// <inheritdoc />
    public bool Equals(MeshDialTarget? other) =>
        other is not null && Destination == other.Destination && string.Equals(Datacenter, other.Datacenter, StringComparison.Ordinal)
        && string.Equals(Subset, other.Subset, StringComparison.Ordinal);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as MeshDialTarget);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Destination, Datacenter, Subset);

    /// <inheritdoc />
    public override string ToString() => Label;
}
