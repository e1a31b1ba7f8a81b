using System.Text;
using CsCheck;
using Mesh.Sni.Routing;

namespace Mesh.Sni.Tests.Routing;

/// <summary>The route table against a linear scan that states the matching rules directly.</summary>
public sealed class SniRouteTablePropertyTests
{
    // Few, short labels in mixed case, so that names, suffixes and wildcards overlap often; '[' and '{', '@' and '`' differ
    // only in the bit the hash ignores to fold case, so they give equal hashes for different names.
    private static readonly Gen<string> Label = Gen.OneOfConst("a", "b", "A", "ab", "Ab", "c-d", "x_y", "", "a[", "A{", "@b", "`b", "long-label-0123456789");
    private static readonly Gen<string> Name = Label.Array[1, 5].Select(labels => string.Join('.', labels));
    private static readonly Gen<string> Pattern = Gen.Select(Gen.Bool, Name, (wildcard, name) => wildcard ? "*." + name : name)
        .Where(p => Normalize(p) is { Length: > 0 } n && n != "*" && !n.EndsWith("*.", StringComparison.Ordinal) && n != "*.");

    [Test]
    public void Lookup_agrees_with_a_linear_scan()
    {
        Gen.Select(Pattern.Array[0, 12], Name.Array[1, 20], Gen.Bool).Sample((patterns, queries, withDefault) =>
        {
            // The table is given the patterns as written; the scan sees them normalized.
            var unique = new Dictionary<string, (string Pattern, int Value)>(StringComparer.Ordinal);
            for (int i = 0; i < patterns.Length; i++)
            {
                unique.TryAdd(Normalize(patterns[i]), (patterns[i], i));
            }

            var routes = unique.Select(kv => new KeyValuePair<string, int>(kv.Key, kv.Value.Value)).ToList();
            var written = unique.Values.Select(v => new KeyValuePair<string, int>(v.Pattern, v.Value)).ToList();
            SniRouteTable<int> table = withDefault ? new(written, -1) : new(written);
            foreach (string query in queries.Append(queries[0] + "."))
            {
                (SniRouteMatch expectedMatch, int expectedValue) = LinearScan(routes, query, withDefault);
                SniRouteMatch match = table.Lookup(Encoding.ASCII.GetBytes(query), out int value);
                if (match != expectedMatch || value != expectedValue)
                {
                    throw new InvalidOperationException(
                        $"'{query}' gave {match} {value}, the scan {expectedMatch} {expectedValue}; routes: {string.Join(", ", routes.Select(r => $"{r.Key}={r.Value}"))}");
                }
            }
        }, iter: 3000);
    }

    // The table ignores one trailing dot and ASCII case.
    private static string Normalize(string pattern) => (pattern.EndsWith('.') ? pattern[..^1] : pattern).ToLowerInvariant();

    private static (SniRouteMatch, int) LinearScan(List<KeyValuePair<string, int>> routes, string query, bool withDefault)
    {
        string name = query.EndsWith('.') ? query[..^1] : query;
        if (name.Length > 0)
        {
            foreach (KeyValuePair<string, int> route in routes)
            {
                if (!route.Key.StartsWith("*.", StringComparison.Ordinal) && string.Equals(route.Key, name, StringComparison.OrdinalIgnoreCase))
                {
                    return (SniRouteMatch.Exact, route.Value);
                }
            }

            int best = -1;
            int bestLength = -1;
            foreach (KeyValuePair<string, int> route in routes)
            {
                if (!route.Key.StartsWith("*.", StringComparison.Ordinal))
                {
                    continue;
                }

                string suffix = route.Key[2..];
                // One or more leading labels: something, a dot, then the suffix.
                bool matches = name.Length >= suffix.Length + 2
                    && name.EndsWith("." + suffix, StringComparison.OrdinalIgnoreCase);
                if (matches && suffix.Length > bestLength)
                {
                    best = route.Value;
                    bestLength = suffix.Length;
                }
            }

            if (bestLength >= 0)
            {
                return (SniRouteMatch.Wildcard, best);
            }
        }

        return withDefault ? (SniRouteMatch.Default, -1) : (SniRouteMatch.None, 0);
    }
}
