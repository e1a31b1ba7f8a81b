using System.Security.Cryptography;
using System.Text;
using Mesh.ControlPlane.File;
using Mesh.Identity;

namespace Mesh.Tls.Authority.Api;

/// <summary>
/// The CA's tokens as one immutable snapshot: finds the entry of a presented token in constant time and decides whether an
/// entry covers a SPIFFE ID. A reload builds a new table and swaps it in whole.
/// </summary>
internal sealed class CaTokenTable
{
    private readonly Entry[] _entries;

    public CaTokenTable(IReadOnlyList<CertificateAuthorityToken> tokens)
    {
        _entries = new Entry[tokens.Count];
        for (int i = 0; i < _entries.Length; i++)
        {
            _entries[i] = new Entry(Fingerprint(tokens[i].Token), tokens[i]);
        }
    }

    public static CaTokenTable Empty { get; } = new([]);

    /// <summary>The entry whose token is <paramref name="presented"/>, or null.</summary>
    public CertificateAuthorityToken? Find(string? presented)
    {
        if (string.IsNullOrEmpty(presented))
        {
            return null;
        }

        // Compare fixed-length digests with every entry, matched or not: neither the length of a token nor how much of it
        // matched, nor where in the list it sits, shows in the time taken.
        byte[] digest = Fingerprint(presented);
        CertificateAuthorityToken? found = null;
        foreach (Entry entry in _entries)
        {
            if (CryptographicOperations.FixedTimeEquals(digest, entry.Digest))
            {
                found = entry.Token;
            }
        }

        return found;
    }

    /// <summary>
    /// Whether a token's entry covers an identity. Each kind is its own key space: a service entry covers exactly its service
    /// in its namespace and partition, a mesh-gateway entry exactly the gateways of its partition.
    /// </summary>
    public static bool Covers(CertificateAuthorityToken token, MeshIdentity identity) => token.Kind switch
    {
        CertificateAuthorityTokenKind.Service => CoversService(token, identity),
        CertificateAuthorityTokenKind.MeshGateway => identity.Kind == MeshIdentityKind.MeshGateway
            && string.Equals(identity.Partition ?? ServiceName.Default, token.Partition, StringComparison.Ordinal),
        _ => false,
    };

    /// <summary>
    /// The first SAN of the request the token's entry does not allow, or null: IP SANs never, DNS SANs only those the entry lists
    /// (compared case-insensitively, as DNS names are).
    /// </summary>
    public static string? FindDisallowedSan(CertificateAuthorityToken token, IReadOnlyList<string> dnsNames, IReadOnlyList<System.Net.IPAddress> ipAddresses)
    {
        if (ipAddresses.Count > 0)
        {
            return $"IP address {ipAddresses[0]}";
        }

        foreach (string name in dnsNames)
        {
            bool listed = false;
            foreach (string allowed in token.DnsNames)
            {
                listed |= string.Equals(name, allowed, StringComparison.OrdinalIgnoreCase);
            }

            if (!listed)
            {
                return $"DNS name '{(name.Length <= 100 ? name : name[..100] + "…")}'";
            }
        }

        return null;
    }

    /// <summary>What changed between two tables, entry by entry, naming entries and never tokens.</summary>
    public static IEnumerable<(string Entry, string Change)> Describe(CaTokenTable previous, CaTokenTable next)
    {
        Dictionary<string, Entry> before = previous._entries.ToDictionary(e => e.Token.ToString(), StringComparer.Ordinal);
        Dictionary<string, Entry> after = next._entries.ToDictionary(e => e.Token.ToString(), StringComparer.Ordinal);
        foreach ((string name, Entry entry) in after)
        {
            if (!before.TryGetValue(name, out Entry old))
            {
                yield return (name, "added");
            }
            else if (!CryptographicOperations.FixedTimeEquals(old.Digest, entry.Digest))
            {
                yield return (name, "token replaced");
            }
            else if (!old.Token.DnsNames.SequenceEqual(entry.Token.DnsNames, StringComparer.OrdinalIgnoreCase))
            {
                yield return (name, $"DNS names now [{string.Join(", ", entry.Token.DnsNames)}]");
            }
        }

        foreach (string name in before.Keys)
        {
            if (!after.ContainsKey(name))
            {
                yield return (name, "removed");
            }
        }
    }

    private static bool CoversService(CertificateAuthorityToken token, MeshIdentity identity)
    {
        try
        {
            return identity.TryGetService(out ServiceIdentity service) && service.Service == token.Service;
        }
        catch (ArgumentException)
        {
            // A part that is a valid SPIFFE segment but not a mesh name (a dot, say) names no service a token can cover.
            return false;
        }
    }

    internal static byte[] Fingerprint(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    private readonly record struct Entry(byte[] Digest, CertificateAuthorityToken Token);
}
