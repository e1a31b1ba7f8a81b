using System.Diagnostics.CodeAnalysis;

namespace Mesh.Identity;

/// <summary>
/// A SPIFFE ID read as one of Consul's identity kinds (consul-semantics §3): a service, a client or server agent, a mesh gateway,
/// or a signing certificate. Parsing and formatting round-trip byte for byte for every ID in Consul's canonical form.
/// </summary>
/// <remarks>
/// Partitions are written in lower case and compared without regard to case, as Consul normalizes them
/// (<c>acl.PartitionOrDefault</c>): <c>/ap/Part1/</c> reads as partition <c>part1</c> and is written back as <c>/ap/part1/</c>.
/// Consul accepts names that SPIFFE forbids (it percent-encodes them); Mesh follows SPIFFE, so every part is checked when an
/// identity is built and a name that cannot form a valid ID is refused with a message naming the part.
/// </remarks>
public readonly struct MeshIdentity : IEquatable<MeshIdentity>
{
    private readonly string? _datacenter;
    private readonly string? _partition;
    private readonly string? _namespace;
    private readonly string? _name;

    private MeshIdentity(MeshIdentityKind kind, TrustDomain trustDomain, string? datacenter, string? partition, string? @namespace, string? name)
    {
        Kind = kind;
        TrustDomain = trustDomain;
        _datacenter = datacenter;
        _partition = partition;
        _namespace = @namespace;
        _name = name;
    }

    /// <summary>What the identity names.</summary>
    public MeshIdentityKind Kind { get; }

    /// <summary>The trust domain of the identity.</summary>
    public TrustDomain TrustDomain { get; }

    /// <summary>The datacenter; null for a signing identity.</summary>
    public string? Datacenter => _datacenter;

    /// <summary>The admin partition of a service, mesh gateway or client agent, in lower case (<c>default</c> unless given); null for other kinds.</summary>
    public string? Partition => _partition;

    /// <summary>The namespace of a service; null for other kinds.</summary>
    public string? Namespace => _namespace;

    /// <summary>The service name or the client agent's ID; null for other kinds.</summary>
    public string? Name => _name;

    /// <summary>The service identity, when <see cref="Kind"/> is <see cref="MeshIdentityKind.Service"/>.</summary>
    public bool TryGetService(out ServiceIdentity service)
    {
        if (Kind != MeshIdentityKind.Service)
        {
            service = default;
            return false;
        }

        service = new ServiceIdentity(new ServiceName(_name!, _namespace, _partition), _datacenter!);
        return true;
    }

    /// <summary>A service identity.</summary>
    public static MeshIdentity ForService(TrustDomain trustDomain, ServiceIdentity service) =>
        new(MeshIdentityKind.Service, CheckTrustDomain(trustDomain), service.Datacenter, service.Service.Partition, service.Service.Namespace, service.Service.Name);

    /// <summary>A client agent identity in the <c>default</c> partition.</summary>
    /// <exception cref="ArgumentException">The datacenter or agent ID cannot form a SPIFFE ID segment.</exception>
    public static MeshIdentity ForClientAgent(TrustDomain trustDomain, string datacenter, string agentId) =>
        ForClientAgent(trustDomain, datacenter, agentId, null);

    /// <summary>A client agent identity in an admin partition; a null or empty partition means <c>default</c>.</summary>
    /// <exception cref="ArgumentException">The datacenter, agent ID or partition cannot form a SPIFFE ID segment.</exception>
    public static MeshIdentity ForClientAgent(TrustDomain trustDomain, string datacenter, string agentId, string? partition) =>
        new(MeshIdentityKind.ClientAgent, CheckTrustDomain(trustDomain), ServiceName.CheckPart(datacenter, "datacenter", nameof(datacenter)),
            CheckPartition(partition), null, CheckAgentId(agentId));

    /// <summary>A server agent identity.</summary>
    /// <exception cref="ArgumentException">The datacenter cannot form a SPIFFE ID segment.</exception>
    public static MeshIdentity ForServerAgent(TrustDomain trustDomain, string datacenter) =>
        new(MeshIdentityKind.ServerAgent, CheckTrustDomain(trustDomain), ServiceName.CheckPart(datacenter, "datacenter", nameof(datacenter)), null, null, null);

    /// <summary>A mesh gateway identity; a null or empty partition means <c>default</c>.</summary>
    /// <exception cref="ArgumentException">The datacenter or partition cannot form a SPIFFE ID segment.</exception>
    public static MeshIdentity ForMeshGateway(TrustDomain trustDomain, string datacenter, string? partition = null) =>
        new(MeshIdentityKind.MeshGateway, CheckTrustDomain(trustDomain), ServiceName.CheckPart(datacenter, "datacenter", nameof(datacenter)),
            CheckPartition(partition), null, null);

    /// <summary>The signing (CA) identity of a trust domain.</summary>
    public static MeshIdentity ForSigning(TrustDomain trustDomain) =>
        new(MeshIdentityKind.Signing, CheckTrustDomain(trustDomain), null, null, null, null);

    /// <summary>Formats the identity as Consul writes it.</summary>
    /// <exception cref="InvalidOperationException">This is the default value.</exception>
    public SpiffeId ToSpiffeId()
    {
        bool defaultPartition = string.Equals(_partition, ServiceName.Default, StringComparison.Ordinal);
        return Kind switch
        {
            MeshIdentityKind.Service => defaultPartition
                ? SpiffeId.FromSegments(TrustDomain, "ns", _namespace!, "dc", _datacenter!, "svc", _name!)
                : SpiffeId.FromSegments(TrustDomain, "ap", _partition!, "ns", _namespace!, "dc", _datacenter!, "svc", _name!),
            MeshIdentityKind.ClientAgent => defaultPartition
                ? SpiffeId.FromSegments(TrustDomain, "agent", "client", "dc", _datacenter!, "id", _name!)
                : SpiffeId.FromSegments(TrustDomain, "ap", _partition!, "agent", "client", "dc", _datacenter!, "id", _name!),
            MeshIdentityKind.ServerAgent => SpiffeId.FromSegments(TrustDomain, "agent", "server", "dc", _datacenter!),
            MeshIdentityKind.MeshGateway => defaultPartition
                ? SpiffeId.FromSegments(TrustDomain, "gateway", "mesh", "dc", _datacenter!)
                : SpiffeId.FromSegments(TrustDomain, "ap", _partition!, "gateway", "mesh", "dc", _datacenter!),
            MeshIdentityKind.Signing => TrustDomain.Id,
            _ => throw new InvalidOperationException("This MeshIdentity is the default value and names no identity."),
        };
    }

    /// <summary>Reads a SPIFFE ID as one of Consul's identity kinds; false when its path matches none of them.</summary>
    public static bool TryParse(SpiffeId id, out MeshIdentity identity)
    {
        identity = default;
        if (!id.IsValid)
        {
            return false;
        }

        TrustDomain td = id.TrustDomain;
        if (!id.HasPath)
        {
            identity = ForSigning(td);
            return true;
        }

        Span<Range> parts = stackalloc Range[10];
        ReadOnlySpan<char> path = id.PathSpan[1..];
        int count = path.Split(parts, '/');
        if (count == 10)
        {
            return false;
        }

        // Consul never writes /ap/default/ (in any case): refusing it keeps parsing and formatting a byte-for-byte round trip.
        if (count >= 2 && path[parts[0]] is "ap" && path[parts[1]].Equals(ServiceName.Default, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        if (ServiceIdentity.TryFromSpiffeId(id, out ServiceIdentity service))
        {
            identity = ForService(td, service);
            return true;
        }

        int offset = 0;
        string? partition = null;
        if (count >= 2 && path[parts[0]] is "ap")
        {
            partition = path[parts[1]].ToString();
            offset = 2;
        }

        if (count - offset == 4 && path[parts[offset]] is "gateway" && path[parts[offset + 1]] is "mesh" && path[parts[offset + 2]] is "dc")
        {
            string dc = path[parts[offset + 3]].ToString();
            if (!ServiceName.IsValidPart(dc) || (partition is not null && !ServiceName.IsValidPart(partition)))
            {
                return false;
            }

            identity = ForMeshGateway(td, dc, partition);
            return true;
        }

        if (count - offset < 1 || path[parts[offset]] is not "agent")
        {
            return false;
        }

        // Server agents belong to no partition: /agent/server/dc/<dc> only.
        if (partition is null && count == 4 && path[parts[1]] is "server" && path[parts[2]] is "dc" && ServiceName.IsValidPart(path[parts[3]].ToString()))
        {
            identity = ForServerAgent(td, path[parts[3]].ToString());
            return true;
        }

        // Consul's spiffeIDAgentRegexp: ^(?:/ap/([^/]+))?/agent/client/dc/([^/]+)/id/([^/]+)$
        if (count - offset == 6 && path[parts[offset + 1]] is "client" && path[parts[offset + 2]] is "dc" && path[parts[offset + 4]] is "id")
        {
            string dc = path[parts[offset + 3]].ToString();
            string agent = path[parts[offset + 5]].ToString();
            if (ServiceName.IsValidPart(dc) && (partition is null || ServiceName.IsValidPart(partition)))
            {
                identity = ForClientAgent(td, dc, agent, partition);
                return true;
            }
        }

        return false;
    }

    private static string CheckPartition(string? partition) =>
        string.IsNullOrEmpty(partition) ? ServiceName.Default : AsciiCase.ToLower(ServiceName.CheckPart(partition, "partition", nameof(partition)));

    private static TrustDomain CheckTrustDomain(TrustDomain trustDomain) =>
        trustDomain.IsValid ? trustDomain : throw new ArgumentException("The trust domain is missing.", nameof(trustDomain));

    // Consul's agent IDs are node names, which may hold dots; any valid SPIFFE segment is accepted.
    private static string CheckAgentId(string agentId)
    {
        ArgumentNullException.ThrowIfNull(agentId);
        SpiffeIdError error = SpiffeIdGrammar.ValidateSegment(agentId);
        return error == SpiffeIdError.None
            ? agentId
            : throw new ArgumentException($"The agent ID '{agentId}' cannot be a SPIFFE ID segment: {SpiffeIdGrammar.Describe(error)}.", nameof(agentId));
    }

    /// <inheritdoc />
    public bool Equals(MeshIdentity other) =>
        Kind == other.Kind && TrustDomain == other.TrustDomain
        && string.Equals(_datacenter, other._datacenter, StringComparison.Ordinal)
        && string.Equals(_partition, other._partition, StringComparison.Ordinal)
        && string.Equals(_namespace, other._namespace, StringComparison.Ordinal)
        && string.Equals(_name, other._name, StringComparison.Ordinal);

    /// <inheritdoc />
    public override bool Equals([NotNullWhen(true)] object? obj) => obj is MeshIdentity other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Kind, TrustDomain, _datacenter, _partition, _namespace, _name);

    /// <summary>The SPIFFE ID, or an empty string for the default value.</summary>
    public override string ToString() => Kind == MeshIdentityKind.None ? string.Empty : ToSpiffeId().ToString();

    /// <summary>Compares two identities part by part.</summary>
    public static bool operator ==(MeshIdentity left, MeshIdentity right) => left.Equals(right);

    /// <summary>Compares two identities part by part.</summary>
    public static bool operator !=(MeshIdentity left, MeshIdentity right) => !left.Equals(right);
}
