using System.Security.Cryptography;
using System.Text;
using Mesh.Identity;

namespace Mesh.ControlPlane.File;

// Validates CA.Tokens. Messages name the field (CA.Tokens[2].Namespace) and never quote a token.
internal static class CertificateAuthorityTokenReader
{
    public static IReadOnlyList<CertificateAuthorityToken> Read(List<CertificateAuthorityTokenDocument?>? documents, Func<string, string, Exception> fail)
    {
        var tokens = new List<CertificateAuthorityToken>();
        var seenTokens = new Dictionary<string, int>(StringComparer.Ordinal);
        var seenEntries = new Dictionary<string, int>(StringComparer.Ordinal);
        List<CertificateAuthorityTokenDocument?> list = documents ?? [];
        for (int i = 0; i < list.Count; i++)
        {
            string at = $"CA.Tokens[{i}]";
            CertificateAuthorityTokenDocument doc = list[i] ?? throw fail(at, "is null; each entry is an object such as {\"Token\": \"...\", \"Service\": \"web\"}");
            if (string.IsNullOrWhiteSpace(doc.Token))
            {
                throw fail(at + ".Token", "is required and cannot be blank");
            }

            string? partition = doc.Partition is null ? null : Part(doc.Partition, at + ".Partition", "partition", fail);
            CertificateAuthorityToken token;
            if (doc.MeshGateway)
            {
                if (doc.Service is not null || doc.Namespace is not null)
                {
                    throw fail(at, "a MeshGateway entry names a partition only; set Service and Namespace in a separate service entry with its own token");
                }

                if (doc.DnsNames is not null)
                {
                    throw fail(at + ".DnsNames", "applies to service entries only");
                }

                token = CertificateAuthorityToken.ForMeshGateway(doc.Token, partition);
            }
            else
            {
                if (doc.Service is null)
                {
                    throw fail(at, "names neither a Service nor \"MeshGateway\": true; a token must name exactly what it allows");
                }

                string name = Part(doc.Service, at + ".Service", "service name", fail);
                string? ns = doc.Namespace is null ? null : Part(doc.Namespace, at + ".Namespace", "namespace", fail);
                List<string> dnsNames = doc.DnsNames ?? [];
                for (int d = 0; d < dnsNames.Count; d++)
                {
                    if (CertificateAuthorityToken.DescribeInvalidDnsName(dnsNames[d]) is { } problem)
                    {
                        throw fail($"{at}.DnsNames[{d}]", $"'{Clip(dnsNames[d])}' cannot be allowed: {problem}");
                    }
                }

                token = CertificateAuthorityToken.ForService(doc.Token, new ServiceName(name, ns, partition), dnsNames);
            }

            // One entry per identity and one identity per token: two entries for one service would make revoking one of them
            // ambiguous, and one token in two entries would let it span key spaces.
            string entry = token.ToString();
            if (seenEntries.TryGetValue(entry, out int first))
            {
                throw fail(at, $"{entry} is already listed at CA.Tokens[{first}]; give each identity one entry");
            }

            string fingerprint = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(doc.Token)));
            if (seenTokens.TryGetValue(fingerprint, out int other))
            {
                throw fail(at + ".Token", $"is the same token as CA.Tokens[{other}].Token; give each entry its own token");
            }

            seenEntries[entry] = i;
            seenTokens[fingerprint] = i;
            tokens.Add(token);
        }

        return tokens.AsReadOnly();
    }

    private static string Part(string value, string field, string what, Func<string, string, Exception> fail)
    {
        string? problem = ServiceName.DescribeInvalidPart(value);
        return problem is null ? value : throw fail(field, $"the {what} '{Clip(value)}' is not usable in the mesh: {problem}");
    }

    private static string Clip(string value) => value.Length <= 100 ? value : value[..100] + "…";
}
