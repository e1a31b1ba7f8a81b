using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace Mesh.Sni.Routing;

/// <summary>
/// An immutable map from TLS server names to routes: exact names and <c>*.suffix</c> wildcards, matched as a Consul mesh
/// gateway matches its filter chains (consul-semantics §2): an exact name beats a wildcard, the longest wildcard suffix wins,
/// and what matches nothing falls to the default route or is refused.
/// </summary>
/// <remarks>
/// A wildcard stands for one or more leading labels: <c>*.dc2.internal.td</c> matches <c>web.default.dc2.internal.td</c> and
/// <c>a.b.dc2.internal.td</c>, never <c>dc2.internal.td</c>. Matching is ASCII case-insensitive and ignores one trailing dot.
/// A lookup reads the parsed server-name bytes, allocates nothing and costs one hash pass over the name, plus one step for
/// each suffix whose length some wildcard has, whatever the number of routes.
/// </remarks>
/// <typeparam name="TValue">The route, for example the upstream cluster to splice to.</typeparam>
[SkipLocalsInit]
public sealed class SniRouteTable<TValue>
{
    private const int MaxNameLength = 255;

    private readonly SniNameIndex _exact;
    private readonly SniNameIndex _wildcard;
    private readonly int[] _wildcardLengths;

    // The routes in the order of each index's slots, so that a name's route sits at its slot's position: the exact route's
    // line is fetched from the hash, with the bucket's, rather than once the bucket has named a route index. Over 10,000
    // rotating names in 100,000 routes this took an exact hit to 0.88-0.90 of the time of the chained read (a cache miss
    // less on the lookup's critical path); it costs a value per slot rather than per route (about 2.6 at this size).
    private readonly TValue[] _exactValues;
    private readonly TValue[] _wildcardValues;
    private readonly TValue _defaultValue;

    /// <summary>Creates a table without a default route: a name that matches nothing is refused.</summary>
    /// <param name="routes">Server names (<c>web.default.dc1.internal.td</c>) or wildcards (<c>*.dc2.internal.td</c>) and their routes.</param>
    /// <exception cref="ArgumentException">A name is malformed or appears twice (ignoring case and a trailing dot).</exception>
    public SniRouteTable(IEnumerable<KeyValuePair<string, TValue>> routes)
        : this(routes, hasDefault: false, default!)
    {
    }

    /// <summary>Creates a table whose names that match nothing take <paramref name="defaultValue"/>.</summary>
    /// <param name="routes">Server names or wildcards and their routes.</param>
    /// <param name="defaultValue">The route of every other name, including a missing server name.</param>
    /// <exception cref="ArgumentException">A name is malformed or appears twice (ignoring case and a trailing dot).</exception>
    public SniRouteTable(IEnumerable<KeyValuePair<string, TValue>> routes, TValue defaultValue)
        : this(routes, hasDefault: true, defaultValue)
    {
    }

    private SniRouteTable(IEnumerable<KeyValuePair<string, TValue>> routes, bool hasDefault, TValue defaultValue)
    {
        ArgumentNullException.ThrowIfNull(routes);
        var exact = new List<(byte[] Key, int Value)>();
        var wildcard = new List<(byte[] Key, int Value)>();
        var values = new List<TValue>();
        foreach (KeyValuePair<string, TValue> route in routes)
        {
            byte[] key = NormalizePattern(route.Key, out bool isWildcard);
            (isWildcard ? wildcard : exact).Add((key, values.Count));
            values.Add(route.Value);
        }

        _exact = new SniNameIndex(exact, values.Count, "server name");
        _wildcard = new SniNameIndex(wildcard, values.Count, "wildcard");
        _wildcardLengths = DistinctLengthsLongestFirst(wildcard);
        _exactValues = _exact.ArrangeBySlot(values);
        _wildcardValues = _wildcard.ArrangeBySlot(values);
        Count = values.Count;
        HasDefault = hasDefault;
        _defaultValue = defaultValue;
    }

    /// <summary>How many routes the table holds, the default not counted.</summary>
    public int Count { get; }

    /// <summary>Whether names that match nothing take a default route.</summary>
    public bool HasDefault { get; }

    /// <summary>Finds the route of a server name as the ClientHello carried it (<c>ClientHelloInfo.ServerName</c>).</summary>
    /// <param name="serverName">The host name bytes; empty when the hello had none.</param>
    /// <param name="value">The route, or the default value of <typeparamref name="TValue"/> on <see cref="SniRouteMatch.None"/>.</param>
    /// <returns>How the name matched.</returns>
    public SniRouteMatch Lookup(ReadOnlySpan<byte> serverName, out TValue? value)
    {
        // One trailing dot goes (an absolute name is the same name).
        int length = serverName.Length;
        if (length != 0 && serverName[length - 1] == (byte)'.')
        {
            length--;
        }

        if ((uint)(length - 1) < MaxNameLength)
        {
            // Case is folded by the hash and the comparison, so the name is never copied. The hash keeps the sums a wildcard
            // lookup needs to hash the name's suffixes without reading it again; each is written before it is read.
            Unsafe.SkipInit(out SniSuffixSums sums);
            SniRouteMatch match = Find(serverName[..length], sums, out value);
            if (match != SniRouteMatch.None)
            {
                return match;
            }
        }

        return NoMatch(out value);
    }

    /// <summary>Finds the route of a server name given as a string.</summary>
    /// <param name="serverName">The host name; null or empty when there is none.</param>
    /// <param name="value">The route, or the default value of <typeparamref name="TValue"/> on <see cref="SniRouteMatch.None"/>.</param>
    /// <returns>How the name matched.</returns>
    public SniRouteMatch Lookup(string? serverName, out TValue? value)
    {
        Span<byte> bytes = stackalloc byte[MaxNameLength + 1];
        if (string.IsNullOrEmpty(serverName) || serverName.Length > bytes.Length
            || Ascii.FromUtf16(serverName, bytes, out int written) != System.Buffers.OperationStatus.Done)
        {
            return NoMatch(out value);
        }

        return Lookup(bytes[..written], out value);
    }

    /// <summary>Finds the route of a server name, the default route included.</summary>
    /// <returns>False when nothing matched and there is no default route.</returns>
    public bool TryLookup(ReadOnlySpan<byte> serverName, out TValue? value) => Lookup(serverName, out value) != SniRouteMatch.None;

    private SniRouteMatch NoMatch(out TValue? value)
    {
        value = HasDefault ? _defaultValue : default;
        return HasDefault ? SniRouteMatch.Default : SniRouteMatch.None;
    }

    private SniRouteMatch Find(ReadOnlySpan<byte> name, Span<ulong> sums, out TValue? value)
    {
        ulong hash = SniNameHash.Hash(name, sums);
        if (_exact.MayHold(hash))
        {
            // The name's route lies in the line of its home slot's route unless the home bucket was full: read that line now,
            // so that it comes from memory together with the bucket's rather than after it.
            ref TValue values = ref MemoryMarshal.GetArrayDataReference(_exactValues);
            _ = Volatile.Read(ref Unsafe.As<TValue, byte>(ref Unsafe.Add(ref values, _exact.HomeSlot(hash))));
            int slot = _exact.Probe(hash, name);
            if (slot >= 0)
            {
                value = _exactValues[slot];
                return SniRouteMatch.Exact;
            }
        }

        int wildcard = FindWildcard(name, sums);
        if (wildcard >= 0)
        {
            value = _wildcardValues[wildcard];
            return SniRouteMatch.Wildcard;
        }

        value = default;
        return SniRouteMatch.None;
    }

    // The slot of the longest wildcard suffix of the name, or -1.
    private int FindWildcard(ReadOnlySpan<byte> name, ReadOnlySpan<ulong> sums)
    {
        // Longest suffix first, and only the suffix lengths some wildcard has: a gateway's wildcards (one per remote
        // datacenter) share a handful of lengths, so a name costs a few byte checks and usually one more probe; the suffix's
        // hash comes from the sums the name's hash kept, in one step. The wildcard stands for at least one non-empty label,
        // so the suffix must start after a dot that is not the first byte.
        int[] lengths = _wildcardLengths;
        for (int i = 0; i < lengths.Length; i++)
        {
            int dot = name.Length - lengths[i] - 1;
            if (dot < 1 || name[dot] != (byte)'.')
            {
                continue;
            }

            int slot = _wildcard.FindSlot(SniNameHash.SuffixHash(name, sums, lengths[i]), name[(dot + 1)..]);
            if (slot >= 0)
            {
                return slot;
            }
        }

        return -1;
    }

    private static int[] DistinctLengthsLongestFirst(List<(byte[] Key, int Value)> wildcards)
    {
        var seen = new bool[MaxNameLength + 1];
        var lengths = new List<int>();
        foreach ((byte[] key, _) in wildcards)
        {
            if (!seen[key.Length])
            {
                seen[key.Length] = true;
                lengths.Add(key.Length);
            }
        }

        lengths.Sort(static (a, b) => b.CompareTo(a));
        return lengths.ToArray();
    }

    private static byte[] NormalizePattern(string pattern, out bool isWildcard)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        ReadOnlySpan<char> name = pattern;
        if (name.EndsWith('.'))
        {
            name = name[..^1];
        }

        isWildcard = name.StartsWith("*.", StringComparison.Ordinal);
        if (isWildcard)
        {
            name = name[2..];
        }

        if (name.IsEmpty || name.Length > MaxNameLength)
        {
            throw new ArgumentException($"The route name '{pattern}' is empty or longer than {MaxNameLength} characters.", nameof(pattern));
        }

        if (name.IndexOfAnyExceptInRange((char)0x21, (char)0x7e) >= 0 || name.Contains('*'))
        {
            throw new ArgumentException(
                $"The route name '{pattern}' must be printable ASCII without spaces; '*' may only stand for the leading labels, as in '*.dc2.internal.example.consul'.",
                nameof(pattern));
        }

        byte[] key = new byte[name.Length];
        Ascii.ToLower(name, key, out _);
        return key;
    }
}
