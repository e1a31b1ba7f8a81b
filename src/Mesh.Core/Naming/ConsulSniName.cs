using System.Diagnostics.CodeAnalysis;
using Mesh.Identity;

namespace Mesh.Naming;

/// <summary>
/// A Consul Connect SNI name: what a sidecar puts in its ClientHello when it dials an upstream, and what a mesh gateway
/// routes on (consul-semantics §1). Builds every form byte for byte as Consul does and parses them back.
/// </summary>
/// <remarks>
/// Names, namespaces, partitions, datacenters, subsets, peers and queries hold no dots, so a name splits into a fixed number
/// of labels before its kind label (<c>internal</c>, <c>internal-v1</c>, <c>external</c>, <c>query</c>) and the trust domain.
/// The partition label appears only when it is not <c>default</c>, and then <c>internal-v1</c> replaces <c>internal</c>;
/// a peer export always carries its partition.
/// </remarks>
public sealed class ConsulSniName : IEquatable<ConsulSniName>
{
    private const string Internal = "internal";
    private const string InternalV1 = "internal-v1";
    private const string External = "external";
    private const string Query = "query";

    private ConsulSniName(
        ConsulSniNameKind kind, TrustDomain trustDomain, string? datacenter, ServiceName? service, string? subset, string? peer, string? query, string partition)
    {
        Kind = kind;
        TrustDomain = trustDomain;
        Datacenter = datacenter;
        Service = service;
        Subset = subset;
        Peer = peer;
        QueryName = query;
        Partition = partition;
    }

    /// <summary>Which form this name has.</summary>
    public ConsulSniNameKind Kind { get; }

    /// <summary>The trust domain, for example <c>7f42f496-fbc7-8692-05ed-334aa5340c1e.consul</c>.</summary>
    public TrustDomain TrustDomain { get; }

    /// <summary>The datacenter; null for a peer export.</summary>
    public string? Datacenter { get; }

    /// <summary>The service with its namespace and partition, for <see cref="ConsulSniNameKind.Service"/> and <see cref="ConsulSniNameKind.PeerExport"/>.</summary>
    public ServiceName? Service { get; }

    /// <summary>The service subset, or null.</summary>
    public string? Subset { get; }

    /// <summary>The peer a service is exported to, for <see cref="ConsulSniNameKind.PeerExport"/>.</summary>
    public string? Peer { get; }

    /// <summary>The prepared query's name, for <see cref="ConsulSniNameKind.PreparedQuery"/>.</summary>
    public string? QueryName { get; }

    /// <summary>The admin partition (<c>default</c> unless given).</summary>
    public string Partition { get; }

    /// <summary>The SNI of a service, or of one of its subsets: <c>[subset.]svc.ns.dc.internal.TD</c> (or <c>internal-v1</c> with a partition).</summary>
    /// <exception cref="ArgumentException">The datacenter or subset cannot be an SNI label.</exception>
    public static ConsulSniName ForService(ServiceName service, string datacenter, TrustDomain trustDomain, string? subset = null)
    {
        _ = service.Name;
        return new(ConsulSniNameKind.Service, CheckTrustDomain(trustDomain), CheckLabel(datacenter, "datacenter", nameof(datacenter)), service,
            string.IsNullOrEmpty(subset) ? null : CheckLabel(subset, "subset", nameof(subset)), null, null, service.Partition);
    }

    /// <summary>The SNI of a datacenter's mesh gateways: <c>dc.internal.TD</c>, or <c>ap.dc.internal-v1.TD</c>.</summary>
    /// <exception cref="ArgumentException">The datacenter or partition cannot be an SNI label.</exception>
    public static ConsulSniName ForDatacenter(string datacenter, TrustDomain trustDomain, string? partition = null) =>
        new(ConsulSniNameKind.Datacenter, CheckTrustDomain(trustDomain), CheckLabel(datacenter, "datacenter", nameof(datacenter)), null, null, null, null,
            string.IsNullOrEmpty(partition) ? ServiceName.Default : CheckLabel(partition, "partition", nameof(partition)));

    /// <summary>The SNI of a service exported to a cluster peer: <c>svc.ns.ap.peer.external.TD</c>.</summary>
    /// <exception cref="ArgumentException">The peer name cannot be an SNI label.</exception>
    public static ConsulSniName ForPeerExport(ServiceName service, string peer, TrustDomain trustDomain)
    {
        _ = service.Name;
        return new(ConsulSniNameKind.PeerExport, CheckTrustDomain(trustDomain), null, service, null, CheckLabel(peer, "peer", nameof(peer)), null, service.Partition);
    }

    /// <summary>The SNI of a prepared query: <c>query.default.dc.query.TD</c>.</summary>
    /// <exception cref="ArgumentException">The query or datacenter cannot be an SNI label.</exception>
    public static ConsulSniName ForPreparedQuery(string query, string datacenter, TrustDomain trustDomain) =>
        new(ConsulSniNameKind.PreparedQuery, CheckTrustDomain(trustDomain), CheckLabel(datacenter, "datacenter", nameof(datacenter)), null, null, null,
            CheckLabel(query, "query", nameof(query)), ServiceName.Default);

    /// <summary>Parses an SNI name of a known trust domain (ASCII case-insensitive, one trailing dot ignored).</summary>
    /// <returns>False when the name is not a Consul SNI name under <paramref name="trustDomain"/>.</returns>
    public static bool TryParse(string? sni, TrustDomain trustDomain, [NotNullWhen(true)] out ConsulSniName? name)
    {
        name = null;
        if (sni is null || !trustDomain.IsValid)
        {
            return false;
        }

        ReadOnlySpan<char> text = TrimDot(sni);
        string td = trustDomain.Name;
        if (text.Length <= td.Length + 1 || text[^(td.Length + 1)] != '.' || !text[^td.Length..].Equals(td, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        return TryParseLabels(text[..^(td.Length + 1)], trustDomain, out name);
    }

    /// <summary>
    /// Parses an SNI name whose trust domain is not known in advance: the trust domain starts after the first kind label
    /// that the labels before it fit. Pass the trust domain when it is known: a trust domain may itself hold such a label.
    /// </summary>
    /// <returns>False when the name is not a Consul SNI name.</returns>
    public static bool TryParse(string? sni, [NotNullWhen(true)] out ConsulSniName? name)
    {
        name = null;
        if (sni is null)
        {
            return false;
        }

        ReadOnlySpan<char> text = TrimDot(sni);
        int labels = 0;
        int start = 0;
        while (start < text.Length)
        {
            int dot = text[start..].IndexOf('.');
            if (dot < 0)
            {
                return false;
            }

            ReadOnlySpan<char> label = text.Slice(start, dot);
            labels++;
            if (IsKindLabel(label) && labels > 1)
            {
                string rest = new(text[(start + dot + 1)..]);
                if (TrustDomain.TryParse(AsciiCase.ToLower(rest), out TrustDomain trustDomain, out _)
                    && TryParseLabels(text[..(start + dot)], trustDomain, out name))
                {
                    return true;
                }
            }

            start += dot + 1;
        }

        return false;
    }

    /// <summary>Parses a Consul SNI name of a known trust domain.</summary>
    /// <exception cref="FormatException">The name is not a Consul SNI name under <paramref name="trustDomain"/>.</exception>
    public static ConsulSniName Parse(string sni, TrustDomain trustDomain)
    {
        ArgumentNullException.ThrowIfNull(sni);
        return TryParse(sni, trustDomain, out ConsulSniName? name)
            ? name
            : throw new FormatException($"'{sni}' is not a Consul SNI name in trust domain '{trustDomain}'.");
    }

    /// <summary>The SNI name, exactly as Consul builds it.</summary>
    public override string ToString()
    {
        string td = TrustDomain.Name;
        bool defaultPartition = string.Equals(Partition, ServiceName.Default, StringComparison.Ordinal);
        return Kind switch
        {
            ConsulSniNameKind.Service when defaultPartition => Subset is null
                ? $"{Service!.Value.Name}.{Service.Value.Namespace}.{Datacenter}.{Internal}.{td}"
                : $"{Subset}.{Service!.Value.Name}.{Service.Value.Namespace}.{Datacenter}.{Internal}.{td}",
            ConsulSniNameKind.Service => Subset is null
                ? $"{Service!.Value.Name}.{Service.Value.Namespace}.{Partition}.{Datacenter}.{InternalV1}.{td}"
                : $"{Subset}.{Service!.Value.Name}.{Service.Value.Namespace}.{Partition}.{Datacenter}.{InternalV1}.{td}",
            ConsulSniNameKind.Datacenter => defaultPartition ? $"{Datacenter}.{Internal}.{td}" : $"{Partition}.{Datacenter}.{InternalV1}.{td}",
            ConsulSniNameKind.PeerExport => $"{Service!.Value.Name}.{Service.Value.Namespace}.{Partition}.{Peer}.{External}.{td}",
            _ => $"{QueryName}.{ServiceName.Default}.{Datacenter}.{Query}.{td}",
        };
    }

    /// <summary>The wildcard a mesh gateway routes a remote datacenter by (consul-semantics §2): <c>*.dc.internal.TD</c>, or <c>*.ap.dc.internal-v1.TD</c>.</summary>
    /// <exception cref="InvalidOperationException">This is not a <see cref="ConsulSniNameKind.Datacenter"/> name.</exception>
    public string ToGatewayWildcard() => Kind == ConsulSniNameKind.Datacenter
        ? "*." + ToString()
        : throw new InvalidOperationException($"Only a datacenter SNI name has a gateway wildcard; this is a {Kind} name.");

    /// <inheritdoc />
    public bool Equals([NotNullWhen(true)] ConsulSniName? other) => other is not null && string.Equals(ToString(), other.ToString(), StringComparison.Ordinal);

    /// <inheritdoc />
    public override bool Equals([NotNullWhen(true)] object? obj) => obj is ConsulSniName other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(ToString());

    private static bool TryParseLabels(ReadOnlySpan<char> prefix, TrustDomain trustDomain, [NotNullWhen(true)] out ConsulSniName? name)
    {
        name = null;
        Span<Range> ranges = stackalloc Range[8];
        int count = prefix.Split(ranges, '.');
        if (count < 2 || count > 7)
        {
            return false;
        }

        Span<string?> labels = new string?[count];
        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<char> label = prefix[ranges[i]];
            labels[i] = new string(label);
        }

        string kind = AsciiCase.ToLower(labels[count - 1]!);
        int parts = count - 1;
        foreach (string? label in labels[..parts])
        {
            if (!ServiceName.IsValidPart(label))
            {
                return false;
            }
        }

        switch (kind)
        {
            case Internal when parts == 1:
                name = ForDatacenter(labels[0]!, trustDomain);
                return true;
            case Internal when parts is 3 or 4:
                int s = parts - 3;
                name = ForService(new ServiceName(labels[s]!, labels[s + 1]), labels[s + 2]!, trustDomain, s == 1 ? labels[0] : null);
                return true;
            case InternalV1 when parts == 2 && !IsDefault(labels[0]):
                name = ForDatacenter(labels[1]!, trustDomain, labels[0]);
                return true;
            case InternalV1 when parts is 4 or 5 && !IsDefault(labels[parts - 2]):
                int v = parts - 4;
                name = ForService(new ServiceName(labels[v]!, labels[v + 1], labels[v + 2]), labels[v + 3]!, trustDomain, v == 1 ? labels[0] : null);
                return true;
            case External when parts == 4:
                name = ForPeerExport(new ServiceName(labels[0]!, labels[1], labels[2]), labels[3]!, trustDomain);
                return true;
            case Query when parts == 3 && string.Equals(labels[1], ServiceName.Default, StringComparison.OrdinalIgnoreCase):
                name = ForPreparedQuery(labels[0]!, labels[2]!, trustDomain);
                return true;
            default:
                return false;
        }
    }

    // Consul compares the partition with "default" exactly; internal-v1 with a default partition is never built.
    private static bool IsDefault(string? label) => string.Equals(label, ServiceName.Default, StringComparison.Ordinal);

    private static bool IsKindLabel(ReadOnlySpan<char> label) =>
        label.Equals(Internal, StringComparison.OrdinalIgnoreCase) || label.Equals(InternalV1, StringComparison.OrdinalIgnoreCase)
        || label.Equals(External, StringComparison.OrdinalIgnoreCase) || label.Equals(Query, StringComparison.OrdinalIgnoreCase);

    private static ReadOnlySpan<char> TrimDot(string sni) => sni.EndsWith('.') ? sni.AsSpan(0, sni.Length - 1) : sni;

    private static TrustDomain CheckTrustDomain(TrustDomain trustDomain) =>
        trustDomain.IsValid ? trustDomain : throw new ArgumentException("The trust domain is the default value.", nameof(trustDomain));

    private static string CheckLabel(string value, string what, string paramName) => ServiceName.CheckPart(value, what, paramName);
}
