using System.Diagnostics.CodeAnalysis;

namespace Mesh.Identity;

/// <summary>
/// The identity of a service instance in a datacenter: what its leaf certificate's SPIFFE ID says
/// (consul-semantics §3): <c>spiffe://&lt;TD&gt;/ns/&lt;ns&gt;/dc/&lt;dc&gt;/svc/&lt;svc&gt;</c>, with <c>/ap/&lt;ap&gt;</c> first for a non-default partition.
/// </summary>
public readonly struct ServiceIdentity : IEquatable<ServiceIdentity>
{
    private readonly string? _datacenter;

    /// <summary>Creates a service identity.</summary>
    /// <exception cref="ArgumentException">The datacenter name cannot form a SPIFFE ID segment.</exception>
    public ServiceIdentity(ServiceName service, string datacenter)
    {
        Service = service;
        _datacenter = ServiceName.CheckPart(datacenter, "datacenter", nameof(datacenter));
    }

    /// <summary>The service, namespace and partition.</summary>
    public ServiceName Service { get; }

    /// <summary>Whether this instance holds an identity (it does unless it is <c>default</c>).</summary>
    public bool IsValid => _datacenter is not null;

    /// <summary>The datacenter the instance runs in.</summary>
    public string Datacenter => _datacenter ?? throw new InvalidOperationException("This ServiceIdentity is the default value.");

    /// <summary>The SPIFFE ID for this identity in a trust domain.</summary>
    public SpiffeId ToSpiffeId(TrustDomain trustDomain) => Service.IsDefaultPartition
        ? SpiffeId.FromSegments(trustDomain, "ns", Service.Namespace, "dc", Datacenter, "svc", Service.Name)
        : SpiffeId.FromSegments(trustDomain, "ap", Service.Partition, "ns", Service.Namespace, "dc", Datacenter, "svc", Service.Name);

    /// <summary>Reads a service identity from a SPIFFE ID's path; false for agent, gateway or other IDs.</summary>
    public static bool TryFromSpiffeId(SpiffeId id, out ServiceIdentity identity)
    {
        identity = default;
        if (!id.IsValid)
        {
            return false;
        }

        // /ns/<ns>/dc/<dc>/svc/<svc> or /ap/<ap>/ns/<ns>/dc/<dc>/svc/<svc>
        Span<Range> parts = stackalloc Range[10];
        ReadOnlySpan<char> path = id.PathSpan;
        if (path.IsEmpty)
        {
            return false;
        }

        path = path[1..];
        int count = path.Split(parts, '/');
        int offset;
        string partition = ServiceName.Default;
        if (count == 6)
        {
            offset = 0;
        }
        else if (count == 8 && path[parts[0]] is "ap")
        {
            partition = path[parts[1]].ToString();
            offset = 2;
        }
        else
        {
            return false;
        }

        if (path[parts[offset]] is not "ns" || path[parts[offset + 2]] is not "dc" || path[parts[offset + 4]] is not "svc")
        {
            return false;
        }

        string ns = path[parts[offset + 1]].ToString();
        string dc = path[parts[offset + 3]].ToString();
        string svc = path[parts[offset + 5]].ToString();
        if (!ServiceName.IsValidPart(ns) || !ServiceName.IsValidPart(dc) || !ServiceName.IsValidPart(svc) || !ServiceName.IsValidPart(partition))
        {
            return false;
        }

        identity = new ServiceIdentity(new ServiceName(svc, ns, partition), dc);
        return true;
    }

    /// <inheritdoc />
    public bool Equals(ServiceIdentity other) => Service.Equals(other.Service) && string.Equals(_datacenter, other._datacenter, StringComparison.Ordinal);

    /// <inheritdoc />
    public override bool Equals([NotNullWhen(true)] object? obj) => obj is ServiceIdentity other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Service, _datacenter);

    /// <summary>The service and datacenter, for logs: <c>counting@dc2</c>.</summary>
    public override string ToString() => $"{Service}@{_datacenter}";

    /// <summary>Compares two identities.</summary>
    public static bool operator ==(ServiceIdentity left, ServiceIdentity right) => left.Equals(right);

    /// <summary>Compares two identities.</summary>
    public static bool operator !=(ServiceIdentity left, ServiceIdentity right) => !left.Equals(right);
}
