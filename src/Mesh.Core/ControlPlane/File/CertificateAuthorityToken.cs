using Mesh.Identity;

namespace Mesh.ControlPlane.File;

/// <summary>
/// One entry of the CA's token list: a secret and exactly what it allows, a service in a namespace and partition (with the DNS
/// names the operator lets that service carry) or the mesh gateways of a partition. <see cref="ToString"/> describes the entry
/// without the secret, so the entry can be named in logs.
/// </summary>
public sealed class CertificateAuthorityToken
{
    private CertificateAuthorityToken(string token, CertificateAuthorityTokenKind kind, ServiceName? service, string partition, IReadOnlyList<string> dnsNames)
    {
        Token = token;
        Kind = kind;
        Service = service;
        Partition = partition;
        DnsNames = dnsNames;
    }

    /// <summary>The secret the caller sends in <c>X-Consul-Token</c>.</summary>
    public string Token { get; }

    /// <summary>What the token allows.</summary>
    public CertificateAuthorityTokenKind Kind { get; }

    /// <summary>The service (name, namespace and partition) a <see cref="CertificateAuthorityTokenKind.Service"/> token covers; null for a gateway token.</summary>
    public ServiceName? Service { get; }

    /// <summary>The admin partition the token covers.</summary>
    public string Partition { get; }

    /// <summary>
    /// The DNS names a service's CSR may carry as DNS SANs (empty: none). The workload talks to the CA directly and is not trusted
    /// to name hosts, unlike Consul's agent, so only the names the operator lists here are signed.
    /// </summary>
    public IReadOnlyList<string> DnsNames { get; }

    /// <summary>A token for one service in one namespace and partition.</summary>
    /// <param name="token">The secret.</param>
    /// <param name="service">The service; its namespace and partition are part of what the token allows.</param>
    /// <param name="dnsNames">DNS names the service's certificates may carry; none when null.</param>
    /// <exception cref="ArgumentException">The token is empty, or a DNS name is not a plain host name; the message says which.</exception>
    public static CertificateAuthorityToken ForService(string token, ServiceName service, IEnumerable<string>? dnsNames = null)
    {
        CheckToken(token);
        var names = new List<string>();
        foreach (string name in dnsNames ?? [])
        {
            if (DescribeInvalidDnsName(name) is { } problem)
            {
                throw new ArgumentException($"The DNS name '{Clip(name)}' cannot be allowed: {problem}.", nameof(dnsNames));
            }

            names.Add(name);
        }

        return new CertificateAuthorityToken(token, CertificateAuthorityTokenKind.Service, service, service.Partition, names.AsReadOnly());
    }

    /// <summary>A token for the mesh gateways of one partition.</summary>
    /// <param name="token">The secret.</param>
    /// <param name="partition">The partition; <c>default</c> when null or empty.</param>
    /// <exception cref="ArgumentException">The token is empty or the partition is not a valid name part.</exception>
    public static CertificateAuthorityToken ForMeshGateway(string token, string? partition = null)
    {
        CheckToken(token);
        string p = string.IsNullOrEmpty(partition) ? ServiceName.Default : ServiceName.CheckPart(partition, "partition", nameof(partition));
        return new CertificateAuthorityToken(token, CertificateAuthorityTokenKind.MeshGateway, null, p, []);
    }

    /// <summary>Describes what the token allows, never the token itself: <c>service default/default/dashboard</c> or <c>mesh-gateway default</c>.</summary>
    public override string ToString() => Kind == CertificateAuthorityTokenKind.Service
        ? $"service {Service!.Value.Partition}/{Service.Value.Namespace}/{Service.Value.Name}"
        : $"mesh-gateway {Partition}";

    /// <summary>
    /// Why a DNS name cannot be allowed, or null: host names of 1–253 characters in labels of 1–63 letters, digits and inner
    /// hyphens (RFC 1123 §2.1). Wildcards and IP addresses are refused: a wildcard lets a workload speak for every host under it.
    /// </summary>
    internal static string? DescribeInvalidDnsName(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return "it is empty";
        }

        if (name.Length > 253)
        {
            return "it is longer than 253 characters";
        }

        if (name.Contains('*', StringComparison.Ordinal))
        {
            return "wildcards are not allowed; list each host name";
        }

        if (System.Net.IPAddress.TryParse(name, out _))
        {
            return "it is an IP address; IP SANs are never signed";
        }

        foreach (string label in name.Split('.'))
        {
            if (label.Length is 0 or > 63)
            {
                return "each dot-separated label must have 1-63 characters";
            }

            if (label[0] == '-' || label[^1] == '-')
            {
                return "a label cannot start or end with '-'";
            }

            foreach (char c in label)
            {
                if (!char.IsAsciiLetterOrDigit(c) && c != '-')
                {
                    return "only letters, digits, '-' and '.' are allowed";
                }
            }
        }

        return null;
    }

    private static void CheckToken(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (string.IsNullOrWhiteSpace(token))
        {
            throw new ArgumentException("A CA token cannot be empty or blank.", nameof(token));
        }
    }

    private static string Clip(string value) => value.Length <= 100 ? value : value[..100] + "…";
}
